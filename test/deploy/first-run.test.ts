/**
 * A newcomer's first minutes with `npm start` (issue 16): it brings up a local Prosody with two demo
 * XMPP accounts and prints how to connect, and a gateway whose IM server cannot be reached is not a
 * crash — the launcher and every other service keep running, the gateway reports not-ready and
 * connects (and delivers) once the server appears.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient } from '@parley/bus';
import { conferencesRpc } from '@parley/contracts';
import { XmppTestClient, holdXmppComponentDomain, testEnv, waitFor } from '@parley/testing';
import { freePort, freePortRange, spawnCollecting, startProsody, stop, type Spawned } from './helpers.js';

describe('npm start for a newcomer', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-first-run-'));
  // The Prosody started later runs as the `prosody` user: let it into the directory.
  chmodSync(dataDir, 0o755);
  const database = `parley_first_run_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testEnv.databaseUrl() });
  const spawned: Spawned[] = [];
  let databaseUrl: string;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(testEnv.databaseUrl());
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  });

  afterAll(async () => {
    for (const s of spawned.reverse()) await stop(s);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function launch(env: Record<string, string>): Promise<Spawned> {
    const portBase = await freePortRange(8);
    const launcher = spawnCollecting(process.execPath, ['scripts/start.mjs'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX,
        PARLEY_NATS_URL: testEnv.natsUrl(),
        PARLEY_DATABASE_URL: databaseUrl,
        PARLEY_DATA_DIR: dataDir,
        PARLEY_START_PORT_BASE: String(portBase),
        PARLEY_LOG_LEVEL: 'warn',
        ...env,
      },
    });
    spawned.push(launcher);
    return launcher;
  }

  const outputOf = (launcher: Spawned) => () => {
    if (launcher.child.exitCode !== null) throw new Error(`npm start exited:\n${launcher.output()}`);
    return launcher.output();
  };

  it('keeps running without an XMPP server, and the gateway connects and delivers once one is started', async () => {
    const [c2sPort, componentPort] = [await freePort(), await freePort()];
    const secret = randomBytes(12).toString('hex');
    const launcher = await launch({
      PARLEY_START_IM_SERVERS: 'no',
      PARLEY_XMPP_COMPONENT_HOST: '127.0.0.1',
      PARLEY_XMPP_COMPONENT_PORT: String(componentPort),
      PARLEY_XMPP_COMPONENT_DOMAIN: 'conf.localhost',
      PARLEY_XMPP_COMPONENT_SECRET: secret,
    });
    const output = outputOf(launcher);
    await waitFor(
      'npm start to say gateway-xmpp waits for its IM server',
      () =>
        /gateway-xmpp is up on (http:\/\/127\.0\.0\.1:\d+) but its IM server cannot be reached yet/.exec(
          output(),
        ),
      60_000,
      250,
    ).then(async (match) => {
      expect((await fetch(`${match[1]}/health/ready`)).status, 'gateway-xmpp not ready').toBe(503);
      expect((await fetch(`${match[1]}/health/live`)).status, 'gateway-xmpp alive').toBe(200);
    });
    expect(output()).toMatch(/7 of 8 services ready/);
    const api = /api-gateway ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())![1]!;
    expect((await fetch(`${api}/health/ready`)).status).toBe(200);

    // The XMPP server appears: the gateway connects by itself and delivers.
    const prosody = await startProsody(path.join(dataDir, 'prosody'), { c2sPort, componentPort, secret });
    spawned.push(prosody.server);
    await waitFor(
      'gateway-xmpp to become ready',
      () => output().includes('gateway-xmpp ready on'),
      60_000,
      250,
    );
    const user = { username: `newcomer-${randomBytes(2).toString('hex')}`, password: 'pw-newcomer', jid: '' };
    user.jid = `${user.username}@localhost`;
    execFileSync('prosodyctl', [
      '--config',
      prosody.configFile,
      'register',
      user.username,
      'localhost',
      user.password,
    ]);
    const client = await XmppTestClient.connect(user, { c2sPort: prosody.c2sPort });
    try {
      const rpc = RpcClient.create(testEnv.natsUrl());
      await rpc.connect();
      const ownerId = `owner-${randomBytes(3).toString('hex')}`;
      const conference = await rpc.call(conferencesRpc.create, { ownerId, name: 'Late server' });
      await rpc.call(conferencesRpc.addParticipants, {
        ownerId,
        conferenceId: conference.id,
        participants: [{ network: 'xmpp', address: user.jid }],
      });
      await rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
      await client.waitForMessage(
        `${conference.id}@conf.localhost`,
        /You are invited to the conference "Late server"/,
        20_000,
      );
      await rpc.close();
    } finally {
      await client.stop();
      await stop(launcher, 'SIGINT');
    }
  }, 150_000);

  it('starts a local Prosody with two demo accounts and prints how to connect', async () => {
    // The gateway uses the shared test Prosody: hold one of its component domains meanwhile.
    const release = await holdXmppComponentDomain();
    const launcher = await launch({ PARLEY_XMPP_COMPONENT_DOMAIN: testEnv.xmpp().componentDomain });
    const output = outputOf(launcher);
    await waitFor(
      'the welcome with the demo accounts',
      () => output().includes('with a demo account:'),
      90_000,
      250,
    );
    expect(output()).toMatch(/Owner console: http:\/\/127\.0\.0\.1:\d+\//);
    expect(output()).toMatch(/IRC: 127\.0\.0\.1:6667/);
    const accounts = [...output().matchAll(/ {4}(\w+@localhost) {3}password (\S+)/g)].map((m) => ({
      jid: m[1]!,
      username: m[1]!.split('@')[0]!,
      password: m[2]!,
    }));
    expect(accounts.map((a) => a.jid)).toEqual(['alice@localhost', 'bob@localhost']);
    try {
      for (const account of accounts) {
        const client = await XmppTestClient.connect(account);
        await client.stop();
      }
      // The console is served, and registering there works: the launcher's mail sink prints the link.
      const console = /Owner console: (http:\/\/127\.0\.0\.1:\d+)\//.exec(output())![1]!;
      const page = await fetch(`${console}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const email = `newcomer-${randomBytes(3).toString('hex')}@example.org`;
      const registered = await fetch(`${console}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'a long enough password', displayName: 'Newcomer' }),
      });
      expect(registered.status).toBe(201);
      await waitFor('the confirmation mail in the launcher output', () =>
        new RegExp(`mail to ${email.replace('.', '\\.')}[\\s\\S]*/confirm\\?token=`).test(output())
          ? true
          : undefined,
      );
    } finally {
      await stop(launcher, 'SIGINT');
      await release();
    }
  }, 150_000);
});
