/**
 * SIGTERM is how every rollout stops a process: each service must drain (finish what it has in
 * hand, hand the rest back to JetStream) and exit 0 within 10 s — Kubernetes' grace period is 30 s,
 * and a stop that hangs turns every rolling upgrade into a kill -9. That nothing is lost across a
 * SIGTERM mid-traffic is checked by the chaos suite's rolling restart (stack-chaos.test.ts); here,
 * every service once, idle and right after start-up, and once while it is still starting (it answers
 * ping, its HTTP port is not listening yet), plus conference-core while it relays.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamBus, RpcClient } from '@parley/bus';
import { SERVICE_NAMES, type ServiceName } from '@parley/contracts';
import {
  holdXmppComponentDomain,
  spawnServiceReady,
  testEnv,
  waitFor,
  type ServiceProcess,
} from '@parley/testing';
import { freePort } from '../deploy/helpers.js';
import {
  chatText,
  expectRelayedExactlyOnceInOrder,
  startChaosConference,
  waitUntilSettled,
} from './relay-harness.js';

const GRACE_MS = 10_000;
const secrets = {
  PARLEY_JWT_SECRET: randomBytes(32).toString('base64'),
  PARLEY_SECRETS_KEY: randomBytes(32).toString('base64'),
  PARLEY_SECRETS_KEY_ID: 'k1',
};

describe('SIGTERM drains and exits within 10 s', () => {
  let rpc: RpcClient;
  let bus: JetStreamBus;
  let db: pg.Client;
  let releaseDomain: (() => Promise<void>) | undefined;
  const children: ServiceProcess[] = [];

  /** Starts the service and waits until it is fully up: it answers ping and its HTTP port listens. */
  const start = async (service: ServiceName) => {
    const port = await freePort();
    const started = await spawnServiceReady(service, rpc, { ...secrets, PARLEY_HTTP_PORT: String(port) });
    children.push(started);
    await waitFor(
      `${service} to listen on ${port}`,
      async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok,
    );
    return started;
  };

  /** Sends SIGTERM and returns how long the process took to exit, and its exit code. */
  const terminate = async (stopping: ServiceProcess) => {
    const from = Date.now();
    stopping.child.kill('SIGTERM');
    await Promise.race([
      stopping.exited(),
      new Promise((resolve) => setTimeout(resolve, GRACE_MS + 5_000).unref()),
    ]);
    return { ms: Date.now() - from, code: stopping.child.exitCode, signal: stopping.child.signalCode };
  };

  beforeAll(async () => {
    releaseDomain = await holdXmppComponentDomain();
    rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'sigterm-test' });
    await bus.ensureStreams();
    db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();
  });

  afterAll(async () => {
    for (const { child, exited } of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    }
    await bus?.close();
    await rpc?.close();
    await db?.end();
    await releaseDomain?.();
  });

  it.each(SERVICE_NAMES)('%s exits 0 within 10 s of SIGTERM', async (service) => {
    const started = await start(service);
    const { ms, code, signal } = await terminate(started);
    expect({ code, signal }, started.stderr()).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(GRACE_MS);
  });

  it.each(SERVICE_NAMES)(
    '%s exits 0 within 10 s of a SIGTERM the moment it answers ping',
    async (service) => {
      const port = await freePort();
      const starting = await spawnServiceReady(service, rpc, { ...secrets, PARLEY_HTTP_PORT: String(port) });
      children.push(starting);
      const { ms, code, signal } = await terminate(starting);
      expect({ code, signal }, starting.stderr()).toEqual({ code: 0, signal: null });
      expect(ms).toBeLessThan(GRACE_MS);
    },
  );

  it.each([
    ['gateway-xmpp', 'PARLEY_XMPP_COMPONENT_HOST', 'PARLEY_XMPP_COMPONENT_PORT'],
    ['gateway-irc', 'PARLEY_IRC_HOST', 'PARLEY_IRC_PORT'],
  ] as const)(
    '%s still starting (its IM server says nothing, HTTP not listening yet) exits 0 within 10 s of SIGTERM',
    async (service, hostVariable, portVariable) => {
      // A server that accepts the connection and never answers holds the gateway's first connection
      // attempt after it answers ping and before HTTP listens: up to 5 s for IRC, 2 s for XMPP
      // (xmpp.js gives up on a stream that does not open by then). On a loaded machine the test may
      // learn of the ping answer too late; then that process is let go and a new one started, up to
      // three times; the SIGTERM goes to a process seen still starting.
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const imPort = String((silent.address() as { port: number }).port);
      try {
        let starting: ServiceProcess | undefined;
        for (let attempt = 1; attempt <= 3 && !starting; attempt++) {
          const port = await freePort();
          const candidate = await spawnServiceReady(service, rpc, {
            ...secrets,
            PARLEY_HTTP_PORT: String(port),
            [hostVariable]: '127.0.0.1',
            [portVariable]: imPort,
          });
          children.push(candidate);
          const listening = await fetch(`http://127.0.0.1:${port}/health/live`).then(
            () => true,
            () => false,
          );
          if (listening) candidate.child.kill('SIGKILL');
          else starting = candidate;
        }
        if (!starting)
          throw new Error('the HTTP port listened already, three times: the start-up window was missed');
        const { ms, code, signal } = await terminate(starting);
        expect({ code, signal }, starting.stderr()).toEqual({ code: 0, signal: null });
        expect(ms).toBeLessThan(GRACE_MS);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    },
  );

  it('conference-core stopped with SIGTERM mid-conversation loses and doubles nothing', async () => {
    const first = await start('conference-core');
    const conference = await startChaosConference(rpc, bus, 'sigterm-owner', 'Sigterm relay', [
      'alice@sigterm.example',
      'bob@sigterm.example',
    ]);
    const sent: Record<string, string[]> = {
      'alice@sigterm.example': Array.from({ length: 100 }, (_, i) => `chaos alice ${i + 1}`),
      'bob@sigterm.example': Array.from({ length: 100 }, (_, i) => `chaos bob ${i + 1}`),
    };
    const sending = Promise.all(
      Object.entries(sent).map(async ([from, bodies]) => {
        for (const body of bodies) await conference.publishInbound(from, body);
      }),
    );
    await waitFor(
      '30 chat deliveries before the SIGTERM',
      () => conference.perRecipient().filter((d) => chatText(d) !== null).length >= 30,
      20_000,
      5,
    );
    const { ms, code } = await terminate(first);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(GRACE_MS);
    await sending;
    await start('conference-core');
    await waitUntilSettled(bus, db, [conference]);
    expectRelayedExactlyOnceInOrder(conference, sent);
    await conference.deliveries.stop();
    await conference.events.stop();
  }, 90_000);
});
