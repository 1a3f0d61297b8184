/**
 * Presence in a conference end to end: conference-core, gateway-xmpp and the presence service
 * started in-process against the real NATS, PostgreSQL and Prosody. Alice is connected from two
 * clients (one `dnd`, one available); carol asks the bot `/list status` and `/list active` as her
 * clients come and go, and the owner sees the same presence in the participant list.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RpcClient } from '@parley/bus';
import { conferencesRpc, presenceRpc, type AggregatePresence } from '@parley/contracts';
import {
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  testEnv,
  waitFor,
  xml,
  XmppTestClient,
  type XmppTestUser,
  startTestService,
} from '@parley/testing';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { AppModule as GatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadGatewayConfig } from '../../services/gateway-xmpp/src/config.js';
import { AppModule as PresenceModule } from '../../services/presence/src/app.module.js';
import { loadServiceConfig as loadPresenceConfig } from '../../services/presence/src/config.js';

/** This file's component domain: set again once one is held (holdXmppComponentDomain). */
let componentDomain = testEnv.xmpp().componentDomain;
type ServiceName = Parameters<typeof startTestService>[0];
type Who = 'alice' | 'bob' | 'carol';

describe('/list status and /list active over XMPP', () => {
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  const apps: NestFastifyApplication[] = [];
  let rpc: RpcClient;
  const users = {} as Record<Who, XmppTestUser>;
  const clients = {} as Record<Who, XmppTestClient>;
  let aliceBusy: XmppTestClient;
  let conferenceId: string;
  let bot: string;

  const name = (who: Who) => `${users[who].username} (xmpp)`;
  async function ask(who: Who, body: string, match: RegExp): Promise<string> {
    const seen = clients[who].messagesFrom(bot).length;
    await clients[who].sendMessage(bot, body);
    return waitFor(
      `${who} to get the answer to ${body}`,
      () =>
        clients[who]
          .messagesFrom(bot)
          .slice(seen)
          .find((m) => match.test(m)),
      15_000,
    );
  }
  /** Waits until the presence service holds `presence` for alice (the bot then answers from it). */
  const alicePresence = (presence: AggregatePresence) =>
    waitFor(
      `alice to be ${presence}`,
      async () => {
        const answer = await rpc.call(presenceRpc.query, {
          identities: [{ network: 'xmpp', address: users.alice.jid }],
        });
        return answer.presences[0]!.presence === presence ? true : undefined;
      },
      15_000,
    );
  const ownerSees = async () =>
    Object.fromEntries(
      (await rpc.call(conferencesRpc.listParticipants, { ownerId, conferenceId })).participants.map((p) => [
        p.address,
        p.presence,
      ]),
    );

  async function start(service: ServiceName, module: unknown): Promise<NestFastifyApplication> {
    const app = await startTestService(service, module as never);
    apps.unshift(app);
    return app;
  }

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    const coreConfig = loadCoreConfig(serviceTestEnv('conference-core'));
    const core = await start('conference-core', CoreModule.forRoot(coreConfig));
    const presenceConfig = loadPresenceConfig(serviceTestEnv('presence'));
    await start('presence', PresenceModule.forRoot(presenceConfig));
    const gatewayConfig = loadGatewayConfig(serviceTestEnv('gateway-xmpp'));
    await start('gateway-xmpp', GatewayModule.forRoot(gatewayConfig));
    rpc = core.get(RpcClient);
    for (const who of ['alice', 'bob', 'carol'] as const) {
      users[who] = await createXmppUser(who);
      clients[who] = await XmppTestClient.connect(users[who], { autoAcceptSubscriptions: true });
    }
    conferenceId = (await rpc.call(conferencesRpc.create, { ownerId, name: 'Presence talk' })).id;
    bot = `${conferenceId}@${componentDomain}`;
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: (['alice', 'bob', 'carol'] as const).map((who) => ({
        network: 'xmpp',
        address: users[who].jid,
      })),
    });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId });
    for (const who of ['alice', 'bob', 'carol'] as const) {
      await clients[who].waitForMessage(bot, /^You are invited/, 15_000);
      await ask(who, '/join', /^You joined/);
    }
    await ask('bob', '/pause', /^Paused/);
  });

  afterAll(async () => {
    await Promise.all([...Object.values(clients), aliceBusy].map((c) => c?.stop()));
    for (const app of apps) await app.close();
    await releaseComponentDomain?.();
  });

  it('shows alice busy while one of her two clients is dnd', async () => {
    aliceBusy = await XmppTestClient.connect(users.alice, {
      resource: 'busy-phone',
      presence: xml('presence', {}, xml('show', {}, 'dnd'), xml('status', {}, 'in a meeting')),
    });
    await alicePresence('busy');
    expect(await ask('carol', '/list status', /^Participants of/)).toBe(
      [
        'Participants of "Presence talk" (3):',
        `${name('alice')}: joined, busy — "in a meeting"`,
        `${name('bob')}: paused, online`,
        `${name('carol')} — you: joined, online`,
      ].join('\n'),
    );
    expect(await ask('carol', '/list active', /^Active participants/)).toBe(
      [
        'Active participants of "Presence talk" (2):',
        `${name('alice')}: busy`,
        `${name('carol')} — you: online`,
      ].join('\n'),
    );
    expect(await ownerSees()).toEqual({
      [users.alice.jid]: 'busy',
      [users.bob.jid]: 'online',
      [users.carol.jid]: 'online',
    });
  });

  it('shows alice online once the busy client disconnects', async () => {
    await aliceBusy.stop();
    await alicePresence('online');
    expect(await ask('carol', '/list status', /^Participants of/)).toBe(
      [
        'Participants of "Presence talk" (3):',
        `${name('alice')}: joined, online`,
        `${name('bob')}: paused, online`,
        `${name('carol')} — you: joined, online`,
      ].join('\n'),
    );
    expect(await ask('carol', '/list active', /^Active participants/)).toMatch(/\(2\):/);
    expect((await ownerSees())[users.alice.jid]).toBe('online');
  });

  it('shows alice offline once both clients are gone, and no longer active', async () => {
    await clients.alice.stop();
    await alicePresence('offline');
    expect(await ask('carol', '/list status', /^Participants of/)).toBe(
      [
        'Participants of "Presence talk" (3):',
        `${name('alice')}: joined, offline`,
        `${name('bob')}: paused, online`,
        `${name('carol')} — you: joined, online`,
      ].join('\n'),
    );
    expect(await ask('carol', '/list active', /^Active participants/)).toBe(
      ['Active participants of "Presence talk" (1):', `${name('carol')} — you: online`].join('\n'),
    );
    expect((await ownerSees())[users.alice.jid]).toBe('offline');
  });
});
