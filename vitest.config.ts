import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Nest's dependency injection needs legacy decorators with design-time metadata.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: [
      'libs/*/src/**/*.spec.ts',
      'libs/*/test/**/*.test.ts',
      'services/*/src/**/*.spec.ts',
      'services/*/test/**/*.test.ts',
      'test/e2e/**/*.test.ts',
      'test/deploy/**/*.test.ts',
      'test/chaos/**/*.test.ts',
      'test/bench/**/*.test.ts',
    ],
    globalSetup: ['libs/testing/dist/global-setup.js'],
    setupFiles: ['libs/testing/dist/setup-file.js'],
    // Keep test output readable; set PARLEY_LOG_LEVEL=info when debugging.
    env: { PARLEY_LOG_LEVEL: process.env.PARLEY_LOG_LEVEL ?? 'error' },
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest.json' },
  },
});
