/**
 * `/history` and `/search` end to end: conference-core, gateway-xmpp and the archive started
 * in-process against the real NATS, PostgreSQL and Prosody; real @xmpp/client users talk, then ask
 * the bot for history. The archive formats the lines; conference-core sends each answer message to
 * the asker only.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RpcClient } from '@parley/bus';
import { archiveLastRpc, conferencesRpc, type ArchivedEvent } from '@parley/contracts';
import {
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  testEnv,
  waitFor,
  XmppTestClient,
  type XmppTestUser,
  startTestService,
} from '@parley/testing';
import { AppModule as ArchiveModule } from '../../services/archive/src/app.module.js';
import { loadServiceConfig as loadArchiveConfig } from '../../services/archive/src/config.js';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { AppModule as GatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadGatewayConfig } from '../../services/gateway-xmpp/src/config.js';

/** This file's component domain: set again once one is held (holdXmppComponentDomain). */
let componentDomain = testEnv.xmpp().componentDomain;
type ServiceName = Parameters<typeof startTestService>[0];

describe('/history and /search over XMPP', () => {
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  const apps: NestFastifyApplication[] = [];
  let rpc: RpcClient;
  const users = {} as Record<'alice' | 'bob', XmppTestUser>;
  const clients = {} as Record<'alice' | 'bob', XmppTestClient>;
  let conferenceId: string;
  let bot: string;

  const say = (who: 'alice' | 'bob', body: string) => clients[who].sendMessage(bot, body);
  /** Sends `body` and returns the next bot message to `who` matching `match`. */
  async function ask(who: 'alice' | 'bob', body: string, match: RegExp): Promise<string> {
    const seen = clients[who].messagesFrom(bot).length;
    await say(who, body);
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
  /** The archive's line for a message: `2026-11-22 00:20Z alice (xmpp): text`. */
  const line = (event: ArchivedEvent) => {
    if (event.type !== 'message-accepted') throw new Error(`not a message: ${event.type}`);
    return `${event.occurredAt.slice(0, 10)} ${event.occurredAt.slice(11, 16)}Z ${event.sender.displayName} (xmpp): ${event.body}`;
  };

  async function start<T>(service: ServiceName, module: unknown): Promise<T> {
    const app = await startTestService(service, module as never);
    apps.unshift(app);
    return app as T;
  }

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    const coreConfig = loadCoreConfig(serviceTestEnv('conference-core'));
    const core = await start<NestFastifyApplication>('conference-core', CoreModule.forRoot(coreConfig));
    const archiveConfig = loadArchiveConfig(serviceTestEnv('archive'));
    await start('archive', ArchiveModule.forRoot(archiveConfig));
    const gatewayConfig = loadGatewayConfig(serviceTestEnv('gateway-xmpp'));
    await start('gateway-xmpp', GatewayModule.forRoot(gatewayConfig));
    rpc = core.get(RpcClient);
    for (const name of ['alice', 'bob'] as const) {
      users[name] = await createXmppUser(name);
      clients[name] = await XmppTestClient.connect(users[name], { autoAcceptSubscriptions: true });
    }
    const conference = await rpc.call(conferencesRpc.create, { ownerId, name: 'History talk' });
    conferenceId = conference.id;
    bot = `${conferenceId}@${componentDomain}`;
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [
        { network: 'xmpp', address: users.alice.jid },
        { network: 'xmpp', address: users.bob.jid },
      ],
    });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId });
    for (const who of ['alice', 'bob'] as const) {
      await clients[who].waitForMessage(bot, /^You are invited/, 15_000);
      await ask(who, '/join', /^You joined/);
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c.stop()));
    for (const app of apps) await app.close();
    await releaseComponentDomain?.();
  });

  it('answers /history, /history 2, /history 5 hours and /search with exactly the expected lines', async () => {
    const bobLabel = `${users.bob.username} (xmpp)`;
    await say('alice', 'hello bob');
    await clients.bob.waitForMessage(bot, `[${users.alice.username} (xmpp)] hello bob`);
    await say('bob', 'the budget is due on friday');
    await clients.alice.waitForMessage(bot, `[${bobLabel}] the budget is due on friday`);
    await ask('bob', '/exit', /^You left/);
    await say('alice', 'while bob was away 1');
    await say('alice', 'while bob was away 2');
    await ask('bob', '/join', /^You joined/);
    await clients.alice.waitForMessage(bot, `${bobLabel} joined.`);

    const messages = await waitFor(
      'the archive to hold the four messages',
      async () => {
        const { events } = await rpc.call(archiveLastRpc, { conferenceId, limit: 20, messagesOnly: true });
        return events.length === 4 ? events : undefined;
      },
      15_000,
    );
    const lines = messages.map(line);
    const DATED = /^\d{4}-\d\d-\d\d \d\d:\d\dZ /;

    // Bob left and came back: plain /history shows what he missed.
    expect(await ask('bob', '/history', DATED)).toBe(lines.slice(2).join('\n'));
    expect(await ask('alice', '/history 2', DATED)).toBe(lines.slice(2).join('\n'));
    expect(await ask('alice', '/history 5 hours', DATED)).toBe(lines.join('\n'));
    // Alice never left: plain /history is the last 20.
    expect(await ask('alice', '/history', DATED)).toBe(lines.join('\n'));
    expect(await ask('bob', '/search budget', DATED)).toBe(lines[1]);
    expect(await ask('bob', '/search nothing-like-this', /no messages match/)).toBe(
      'no messages match "nothing-like-this"',
    );
    expect(await ask('alice', '/history 3 fortnights', /is not a unit/)).toMatch(
      /^"fortnights" is not a unit/,
    );
    // Every answer went to the asker only: nobody saw the other's history lines relayed.
    expect(clients.alice.messagesFrom(bot).filter((m) => m === lines[1])).toEqual([]);
    expect(clients.bob.messagesFrom(bot).filter((m) => m === lines.join('\n'))).toEqual([]);
  });
});
