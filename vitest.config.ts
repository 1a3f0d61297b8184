import { defineConfig } from 'vitest/config';

/**
 * Test tiers, each a vitest project that a developer can run alone (`npm test -- --project unit`):
 * - unit: pure specs beside the code — no PostgreSQL, NATS, Prosody or ngircd, no global set-up;
 * - integration: one service (or lib) against the real servers;
 * - e2e: whole scenarios with real XMPP and IRC clients;
 * - deploy: deployment files, the launcher and NATS permissions;
 * - chaos: processes killed and restarted mid-traffic;
 * - bench: a smoke run of the benchmarks (figures produced, nothing lost — never how fast).
 * `npm test` runs them all.
 */
const withServers = {
  // Finds the real servers (or fails at once naming what is missing) before any test file runs.
  globalSetup: ['libs/testing/dist/global-setup.js'],
  // A fresh bus prefix per test file, removed after it.
  setupFiles: ['libs/testing/dist/setup-file.js'],
};

export default defineConfig({
  // Nest's dependency injection needs legacy decorators with design-time metadata.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    // Keep test output readable; set PARLEY_LOG_LEVEL=info when debugging.
    env: { PARLEY_LOG_LEVEL: process.env.PARLEY_LOG_LEVEL ?? 'error' },
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'scripts/**/*.spec.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['libs/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          ...withServers,
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...withServers } },
      { extends: true, test: { name: 'deploy', include: ['test/deploy/**/*.test.ts'], ...withServers } },
      { extends: true, test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], ...withServers } },
      { extends: true, test: { name: 'bench', include: ['test/bench/**/*.test.ts'], ...withServers } },
    ],
  },
});
