/**
 * Vitest setup file (runs in each test file's worker before the file): a fresh bus namespace for
 * the file, and removal of its streams and schemas after it.
 */
import { afterAll } from 'vitest';
import { cleanupNamespace, useFreshNamespace } from './namespace.js';

const prefix = useFreshNamespace();
afterAll(async () => {
  await cleanupNamespace(prefix);
});
