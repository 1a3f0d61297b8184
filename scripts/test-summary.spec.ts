/**
 * `npm test`'s closing line must never say "0 failed" when anything failed: scripts/test.mjs is run
 * for real, in a subprocess, on a throwaway suite (scripts/fixtures/test-summary) with a failing
 * beforeAll, and on one with an unhandled rejection.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function runTestScript(fixture: string): { status: number | null; lastLine: string; output: string } {
  const result = spawnSync(
    process.execPath,
    ['scripts/test.mjs', '--config', 'scripts/fixtures/test-summary/vitest.config.ts'],
    {
      cwd: root,
      encoding: 'utf8',
      // No servers for the fixture suite; VITEST is set, so the outer run's module cache is kept.
      env: { ...process.env, PARLEY_TEST_SERVERS: 'external', PARLEY_FIXTURE: fixture },
      timeout: 120_000,
    },
  );
  const output = `${result.stdout}${result.stderr}`;
  const lines = result.stdout.trim().split('\n');
  return { status: result.status, lastLine: lines[lines.length - 1] ?? '', output };
}

describe('npm test closing line', () => {
  test('a file whose beforeAll throws counts as failed, and the exit code is non-zero', () => {
    const run = runTestScript('{passes,before-all-throws}.fixture.ts');
    expect(run.lastLine).toBe('1 passed, 1 failed, 1 skipped');
    expect(run.output).toContain('failed outside its tests');
    expect(run.output).toContain('before-all-throws.fixture.ts');
    expect(run.status).not.toBe(0);
  });

  test('an unhandled rejection with every test passing still counts as a failure', () => {
    const run = runTestScript('unhandled.fixture.ts');
    expect(run.lastLine).toBe('1 passed, 1 failed');
    expect(run.status).not.toBe(0);
  });

  test('a clean run says 0 failed and exits 0', () => {
    const run = runTestScript('passes.fixture.ts');
    expect(run.lastLine).toBe('1 passed, 0 failed');
    expect(run.status).toBe(0);
  });
});
