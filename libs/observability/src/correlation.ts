/**
 * The correlation id of the work in progress, carried through async calls (AsyncLocalStorage) and
 * across services in a NATS header, so every log line of one IM event or request can be joined.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const storage = new AsyncLocalStorage<string>();

export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}

/** Runs `fn` with the given correlation id (a new one when absent). */
export function withCorrelationId<T>(id: string | undefined, fn: () => T): T {
  return storage.run(id ?? randomUUID(), fn);
}
