/**
 * `npm start` on a machine where no PostgreSQL answers at the configured address and no NATS
 * either: the launcher starts the embedded PostgreSQL and a nats-server under its data directory,
 * runs every service, reports each ready, and on Ctrl-C (SIGINT) stops them all cleanly.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnv, waitFor } from '@parley/testing';
import {
  exitWithin,
  freePortRange,
  portOpen,
  startProsody,
  repoRoot,
  spawnCollecting,
  stop,
  type Spawned,
} from './helpers.js';

const services = readdirSync(path.join(repoRoot, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('npm start', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-start-'));
  // The embedded PostgreSQL runs as the `postgres` user when the launcher is root: let it in.
  chmodSync(dataDir, 0o755);
  let launcher: Spawned | undefined;
  let prosody: Spawned | undefined;

  afterAll(async () => {
    await stop(launcher);
    await stop(prosody);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('comes up with the embedded PostgreSQL and its own NATS, reports every service ready, and stops all on SIGINT', async () => {
    const first = await freePortRange(services.length + 3);
    const [pgPort, natsPort, apiPort, base] = [first, first + 1, first + 2, first + 3];
    const xmpp = await startProsody(path.join(dataDir, 'prosody'));
    prosody = xmpp.server;
    launcher = spawnCollecting(process.execPath, ['scripts/start.mjs'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX,
        PARLEY_DATABASE_URL: `postgres://parley:parley@127.0.0.1:${pgPort}/parley`,
        PARLEY_NATS_URL: `nats://127.0.0.1:${natsPort}`,
        PARLEY_DATA_DIR: dataDir,
        PARLEY_START_PORT_BASE: String(base),
        // The product spec's api-gateway port; the other services stay on base + i.
        PARLEY_HTTP_PORT: String(apiPort),
        PARLEY_LOG_LEVEL: 'warn',
        PARLEY_START_IM_SERVERS: 'no',
        ...xmpp.env,
      },
    });
    const running = launcher;
    await waitFor(
      `"all ${services.length} services ready" from npm start`,
      () => {
        if (running.child.exitCode !== null) throw new Error(`npm start exited:\n${running.output()}`);
        return running.output().includes(`all ${services.length} services ready`);
      },
      50_000,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- output ---\n${running.output()}`);
    });
    expect(running.output()).toContain('starting the embedded one');
    expect(running.output()).toContain('started nats-server with JetStream');

    // What a user would check: every service answers ready where the launcher said it is.
    const ports: number[] = [];
    for (const service of services) {
      const url = new RegExp(`${service} ready on (http://127\\.0\\.0\\.1:(\\d+))`).exec(running.output());
      expect(url, `${service} reported ready`).not.toBeNull();
      ports.push(Number(url![2]));
      const response = await fetch(`${url![1]}/health/ready`);
      expect(response.status, `${service} /health/ready`).toBe(200);
    }
    expect(new Set(ports).size).toBe(services.length);
    expect(ports[services.indexOf('api-gateway')], 'api-gateway on PARLEY_HTTP_PORT').toBe(apiPort);

    running.child.kill('SIGINT');
    expect(await exitWithin(running, 'npm start after SIGINT', 45_000)).toEqual({ code: 0, signal: null });
    for (const service of services)
      expect(running.output()).toMatch(new RegExp(`${service} stopped \\(exit 0\\)`));
    expect(running.output()).toContain('all stopped cleanly');
    const stillOpen = await Promise.all([pgPort, natsPort, ...ports].map((port) => portOpen(port)));
    expect(stillOpen.every((isOpen) => !isOpen)).toBe(true);
    // Normally ≈ 15 s; the bound leaves room for a loaded machine.
  }, 100_000);

  it('says what to install when no NATS answers and there is no nats-server to start', async () => {
    const port = await freePortRange(1);
    const run = spawnCollecting(process.execPath, ['scripts/start.mjs'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX,
        PARLEY_DATABASE_URL: testEnv.databaseUrl(),
        PARLEY_NATS_URL: `nats://127.0.0.1:${port}`,
        PARLEY_NATS_SERVER: path.join(dataDir, 'no-such-nats-server'),
        PARLEY_DATA_DIR: dataDir,
      },
    });
    expect(await exitWithin(run, 'npm start without NATS', 30_000)).toEqual({ code: 1, signal: null });
    expect(run.output()).toContain(`no NATS answers at nats://127.0.0.1:${port}`);
    expect(run.output()).toContain('apt-get install nats-server');
  });
});
