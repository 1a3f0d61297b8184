import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '@parley/contracts';

/** Runs a built service with the given environment until it exits; returns its exit code and stderr. */
function runService(
  service: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`services/${service}/dist/main.js`], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('service start-up with invalid configuration', () => {
  it.each(SERVICE_NAMES)('%s refuses to start, naming the variable, and exits non-zero', async (service) => {
    const { code, stderr } = await runService(service, {
      PARLEY_NATS_URL: 'http://not-nats',
      PARLEY_HTTP_PORT: 'eighty',
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`${service}: invalid configuration`);
    expect(stderr).toContain('PARLEY_NATS_URL: must be nats://host:port');
    expect(stderr).toContain('PARLEY_HTTP_PORT');
  });

  it('exits non-zero with a clear message when PostgreSQL cannot be reached after retries', async () => {
    const { code, stderr } = await runService('archive', {
      PARLEY_DATABASE_URL: 'postgres://parley:parley@127.0.0.1:1/parley',
      PARLEY_HTTP_PORT: '0',
      PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX ?? 'parley',
      PARLEY_LOG_LEVEL: 'fatal',
      PARLEY_STARTUP_ATTEMPTS: '2',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /archive failed to start: connecting to PostgreSQL .* still failing after 2 attempts/,
    );
  });
});
