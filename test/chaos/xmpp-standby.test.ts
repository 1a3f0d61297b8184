/**
 * Two gateway-xmpp processes for one component domain: the XMPP server takes one connection per
 * domain, so the second is a standby (it keeps knocking, holds no deliveries). The active one is
 * killed with SIGKILL mid-conversation; the standby must take the component over within seconds,
 * and every accepted message must reach every other participant exactly once, in order — what the
 * dead one had in hand included (replayed from the ack floor, checked against the delivery progress).
 * A standby counts as ready (a rolling update waits for the new pod's readiness while the old pod
 * holds the component): the rollout's own sequence — new process ready as a standby, old one stopped
 * with SIGTERM, new one online — is checked too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferenceEventV1Schema,
  conferencesRpc,
  streams,
  subjects,
  type ConferenceEventV1,
} from '@parley/contracts';
import {
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  spawnService,
  startTestService,
  testEnv,
  waitFor,
  XmppTestClient,
  type ServiceProcess,
} from '@parley/testing';
import { freePort } from '../deploy/helpers.js';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { follow, type Followed } from './relay-harness.js';

const MESSAGES = 40;

describe('gateway-xmpp with a standby: the active one killed mid-conversation', () => {
  let releaseDomain: (() => Promise<void>) | undefined;
  let core: NestFastifyApplication;
  let rpc: RpcClient;
  let bus: JetStreamBus;
  let events: Followed<ConferenceEventV1> | undefined;
  const gateways: Array<ServiceProcess & { port: number }> = [];
  const clients: XmppTestClient[] = [];

  /** What the gateway's readiness says of the component: online, standing by, or not ready. */
  const readiness = async (port: number): Promise<'online' | 'standing by' | 'not ready'> => {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      const body = (await response.json()) as { checks?: Array<{ name: string; detail?: string }> };
      const detail = body.checks?.find((c) => c.name === 'XmppComponentHealthIndicator')?.detail ?? '';
      if (!response.ok) return 'not ready';
      if (detail === 'xmpp: online') return 'online';
      if (detail.startsWith('xmpp: standing by')) return 'standing by';
      throw new Error(`ready, but with an unknown detail: ${detail}`);
    } catch (error) {
      if ((error as Error).message.startsWith('ready, but')) throw error;
      return 'not ready';
    }
  };
  const isOnline = async (port: number) => (await readiness(port)) === 'online';
  const isStandingBy = async (port: number) => (await readiness(port)) === 'standing by';

  const stopAll = async () => {
    for (const { child, exited } of gateways) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    }
  };

  const startGateway = async (env: Record<string, string> = {}) => {
    const port = await freePort();
    const gateway = { ...spawnService('gateway-xmpp', { PARLEY_HTTP_PORT: String(port), ...env }), port };
    gateways.push(gateway);
    await waitFor(
      `gateway-xmpp (pid ${gateway.child.pid}) to answer`,
      async () => {
        if (gateway.child.exitCode !== null) throw new Error(`gateway-xmpp exited: ${gateway.stderr()}`);
        return (await fetch(`http://127.0.0.1:${port}/health/live`)).ok;
        // Its HTTP port listens after the first component attempt (up to 5 s); a loaded machine adds more.
      },
      30_000,
    );
    return gateway;
  };

  beforeAll(async () => {
    releaseDomain = await holdXmppComponentDomain();
    core = await startTestService(
      'conference-core',
      CoreModule.forRoot(loadCoreConfig(serviceTestEnv('conference-core'))),
    );
    rpc = core.get(RpcClient);
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'xmpp-standby-test' });
  });

  afterAll(async () => {
    await stopAll();
    await events?.stop();
    await Promise.all(clients.map((c) => c.stop()));
    await core?.close();
    await bus?.close();
    await releaseDomain?.();
  });

  it('takes the component over within seconds and loses, doubles and reorders nothing', async () => {
    const active = await startGateway();
    await waitFor('the first gateway to be online', () => isOnline(active.port), 30_000, 100);
    const standby = await startGateway();
    // The server refused the second one the component (conflict): it stands by, and says so.
    await waitFor('the second gateway to stand by', () => isStandingBy(standby.port), 10_000);

    const users = await Promise.all(['alice', 'bob', 'carol'].map((name) => createXmppUser(name)));
    const [alice, bob, carol] = await Promise.all(
      users.map((user) => XmppTestClient.connect(user, { autoAcceptSubscriptions: true })),
    );
    clients.push(alice!, bob!, carol!);
    const ownerId = `owner-${randomBytes(4).toString('hex')}`;
    const conference = await rpc.call(conferencesRpc.create, { ownerId, name: 'Standby' });
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: conference.id,
      participants: users.map((u) => ({ network: 'xmpp' as const, address: u.jid })),
    });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
    const botJid = `${conference.id}@${testEnv.xmpp().componentDomain}`;
    for (const client of [alice!, bob!, carol!]) {
      await client.waitForMessage(botJid, /^You are invited/, 20_000);
      await client.sendMessage(botJid, '/join');
      await client.waitForMessage(botJid, /^You joined/, 20_000);
    }
    events = await follow(bus, streams.confEvents().name, subjects.confEvents(conference.id), (v) =>
      conferenceEventV1Schema.parse(v),
    );

    // Alice talks steadily; the active gateway dies after the tenth message.
    let takeOverMs = 0;
    for (let i = 1; i <= MESSAGES; i++) {
      await alice!.sendMessage(botJid, `standby ${i}`);
      if (i === 10) {
        await bob!.waitForMessage(botJid, /\] standby 10$/, 10_000);
        const killedAt = Date.now();
        active.child.kill('SIGKILL');
        await active.exited();
        await waitFor('the standby to take the component over', () => isOnline(standby.port), 10_000, 20);
        takeOverMs = Date.now() - killedAt;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(`the standby took the component over ${takeOverMs} ms after the kill`);
    expect(takeOverMs, 'take-over time (ms)').toBeLessThan(5_000);

    // What conference-core accepted (messages sent while no gateway held the component were bounced
    // to alice by the server, never accepted) must reach bob and carol once each, in order.
    const accepted = () =>
      events!.seen
        .filter(
          (e): e is Extract<ConferenceEventV1, { type: 'message-accepted' }> =>
            e.type === 'message-accepted' && /^standby \d+$/.test(e.body),
        )
        .sort((a, b) => a.seq - b.seq)
        .map((e) => e.body);
    await alice!.sendMessage(botJid, 'standby over');
    // The follower of CONF_EVENTS may lag behind the clients on a loaded machine.
    await waitFor('the events up to the last message', () =>
      events!.seen.some((e) => e.type === 'message-accepted' && e.body === 'standby over') ? true : null,
    );
    for (const client of [bob!, carol!]) {
      await client.waitForMessage(botJid, /\] standby over$/, 20_000);
      const heard = client
        .messagesFrom(botJid)
        .map((m) => m.slice(m.indexOf('] ') + 2))
        .filter((m) => /^standby \d+$/.test(m));
      expect(heard, `what ${client.user.username} heard`).toEqual(accepted());
    }
    expect(accepted().length).toBeGreaterThanOrEqual(10);
  }, 120_000);

  it('a rolling update: the new process is ready as a standby, and takes over once the old one is stopped with SIGTERM', async () => {
    await stopAll();
    const old = await startGateway();
    await waitFor('the old gateway to be online', () => isOnline(old.port), 30_000, 100);
    // Kubernetes goes on with the rollout only once the new pod is ready.
    const next = await startGateway();
    await waitFor('the new gateway to be ready, standing by', () => isStandingBy(next.port), 10_000);
    expect(await isOnline(old.port), 'the old gateway keeps the component meanwhile').toBe(true);
    old.child.kill('SIGTERM');
    await old.exited();
    expect(old.child.exitCode, old.stderr()).toBe(0);
    await waitFor('the new gateway to take the component over', () => isOnline(next.port), 10_000, 20);
  }, 60_000);

  it('a gateway whose XMPP server does not answer is not ready (it is no standby)', async () => {
    const nobody = String(await freePort());
    const lonely = await startGateway({ PARLEY_XMPP_COMPONENT_PORT: nobody });
    expect(await readiness(lonely.port)).toBe('not ready');
  });
});
