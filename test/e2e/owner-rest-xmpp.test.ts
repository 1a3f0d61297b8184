/**
 * Issue 4's first acceptance item taken literally "over REST": an owner registers, confirms by mail
 * and logs in through the public API (api-gateway + accounts with a real SMTP listener), then
 * drives a conference only through /api/v1 while three, then four, real @xmpp/client users on the
 * real Prosody talk to its bot (conference-core and gateway-xmpp in-process, real NATS and
 * PostgreSQL). test/e2e/conference-xmpp.test.ts covers the bot in depth over the RPCs; this file
 * proves the owner's REST path reaches the same users.
 *
 * Prosody accepts one component connection per domain, so the file holds the component-domain
 * lock from before gateway-xmpp connects until after it has disconnected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  bare,
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
import { AppModule as XmppGatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppGatewayConfig } from '../../services/gateway-xmpp/src/config.js';
import {
  createOwner,
  expectStatus,
  startStack,
  type Stack,
  type TestOwner,
} from '../../services/api-gateway/test/support/stack.js';

const NS_NICK = 'http://jabber.org/protocol/nick';
/** This file's component domain: set again once one is held (holdXmppComponentDomain). */
let componentDomain = testEnv.xmpp().componentDomain;
const PEOPLE = ['alice', 'bob', 'carol', 'dave'] as const;
type Who = (typeof PEOPLE)[number];

/** The participant fields the owner reads over REST (see ParticipantView in docs/conference-bot.md). */
interface RestParticipant {
  id: string;
  network: string;
  address: string;
  state: string;
  invitedBy: { participantId: string; network: string; address: string; displayName: string } | null;
  messageCount: number;
}

describe('an owner runs an XMPP conference over the REST API', () => {
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  let stack: Stack;
  let xmppGateway: NestFastifyApplication;
  let owner: TestOwner;
  const users = {} as Record<Who, XmppTestUser>;
  const clients = {} as Record<Who, XmppTestClient>;
  let conferenceId: string;
  let bot: string;

  const api = (method: string, path: string, body?: unknown) =>
    stack.request(method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });
  const restParticipants = async (): Promise<RestParticipant[]> =>
    expectStatus(await api('GET', `/conferences/${conferenceId}/participants`), 200).items;
  const restParticipant = async (who: Who) =>
    (await restParticipants()).find((p) => p.address === users[who].jid);

  const label = (who: Who) => `${users[who].username} (xmpp)`;
  const say = (who: Who, body: string) => clients[who].sendMessage(bot, body);
  const botSays = (who: Who, body: string | RegExp) => clients[who].waitForMessage(bot, body, 15_000);
  const timesReceived = (who: Who, body: string) =>
    clients[who].messagesFrom(bot).filter((m) => m === body).length;
  const botPresence = (who: Who, type: string) =>
    clients[who].waitForStanza(
      `presence ${type} from the bot`,
      (s) => s.is('presence') && bare(s.attrs.from) === bot && s.attrs.type === type,
      15_000,
    );

  beforeAll(async () => {
    // Other files hold the component domain for a while: wait for it longer than a plain hook.
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    stack = await startStack({ conferences: true });
    const config = loadXmppGatewayConfig(serviceTestEnv('gateway-xmpp'));
    xmppGateway = await startTestService('gateway-xmpp', XmppGatewayModule.forRoot(config));
    for (const who of PEOPLE) users[who] = await createXmppUser(who);
    await Promise.all(
      PEOPLE.map(async (who) => {
        // carol accepts the bot's request by hand below, so the test sees the state before and after.
        clients[who] = await XmppTestClient.connect(users[who], { autoAcceptSubscriptions: who !== 'carol' });
      }),
    );
  }, 300_000);

  afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c.stop()));
    await xmppGateway?.close();
    await stack?.close();
    await releaseComponentDomain?.();
  });

  it('registers, confirms by mail and logs the owner in over REST', async () => {
    owner = await createOwner(stack, 'rest-owner');
    const me = expectStatus(await api('GET', '/me'), 200);
    expect(me).toMatchObject({ id: owner.id, email: owner.email, displayName: owner.displayName });
  });

  it('creates a conference and adds the three XMPP users over REST', async () => {
    const created = expectStatus(
      await api('POST', '/conferences', { name: 'Rest sync', subject: 'Planning' }),
      201,
    );
    expect(created).toMatchObject({
      ownerId: owner.id,
      state: 'draft',
      botName: 'Rest sync (parley)',
      joinPolicy: 'invite-only',
    });
    conferenceId = created.id;
    bot = `${conferenceId}@${componentDomain}`;

    const added = expectStatus(
      await api('POST', `/conferences/${conferenceId}/participants`, {
        participants: (['alice', 'bob', 'carol'] as const).map((who) => ({
          network: 'xmpp',
          address: users[who].jid,
        })),
      }),
      201,
    );
    expect(added.errors).toEqual([]);
    expect((await restParticipants()).map((p) => [p.address, p.state, p.invitedBy])).toEqual([
      [users.alice.jid, 'invited', null],
      [users.bob.jid, 'invited', null],
      [users.carol.jid, 'invited', null],
    ]);
    // Nothing reaches anyone before the start.
    expect(clients.alice.messagesFrom(bot)).toEqual([]);
  });

  it('starts it over REST: each user gets the bot’s subscription request, then the invitation; they accept', async () => {
    const started = expectStatus(await api('POST', `/conferences/${conferenceId}/start`), 200);
    expect(started.state).toBe('active');
    const invitation =
      'You are invited to the conference "Rest sync" — Planning. Reply /join to join, /help for the commands.';
    for (const who of ['alice', 'bob', 'carol'] as const) {
      const request = await botPresence(who, 'subscribe');
      expect(request.getChild('nick', NS_NICK)?.text()).toBe('Rest sync (parley)');
      await botSays(who, invitation);
      const invitationAt = clients[who].received.findIndex(
        (s) => s.is('message') && bare(s.attrs.from) === bot && s.getChildText('body') === invitation,
      );
      expect(clients[who].received.indexOf(request)).toBeLessThan(invitationAt);
      expect(timesReceived(who, invitation)).toBe(1);
    }

    // alice and bob answered `subscribed` on their own; carol has not answered yet.
    await waitFor('alice and bob to be authorized', async () => {
      const states = (await restParticipants()).map((p) => p.state);
      return states.filter((s) => s === 'authorized').length === 2 ? states : undefined;
    });
    expect((await restParticipant('carol'))?.state).toBe('invited');
    await clients.carol.send(xml('presence', { to: bot, type: 'subscribed' }));
    await waitFor('carol to be authorized', async () =>
      (await restParticipant('carol'))?.state === 'authorized' ? true : undefined,
    );
  });

  it('lets them /join, and relays a message to exactly the other two, once each, with the sender’s name', async () => {
    await say('alice', '/join');
    await botSays('alice', 'You joined "Rest sync" (0 others here). Send /help for the commands.');
    await say('bob', '/join');
    await botSays('alice', `${label('bob')} joined.`);
    await say('carol', '/join');
    await botSays('alice', `${label('carol')} joined.`);
    await botSays('bob', `${label('carol')} joined.`);
    await botSays('carol', 'You joined "Rest sync" (2 others here). Send /help for the commands.');

    await say('alice', 'hello from alice');
    const relayed = `[${label('alice')}] hello from alice`;
    await botSays('bob', relayed);
    await botSays('carol', relayed);
    // bob's later message comes after any duplicate of alice's would have (one order per conference).
    await say('bob', 'after alice');
    await botSays('alice', `[${label('bob')}] after alice`);
    await botSays('carol', `[${label('bob')}] after alice`);
    expect(timesReceived('bob', relayed)).toBe(1);
    expect(timesReceived('carol', relayed)).toBe(1);
    expect(clients.alice.messagesFrom(bot).filter((m) => m.includes('hello from alice'))).toEqual([]);
    expect((await restParticipant('alice'))?.messageCount).toBe(1);
  });

  it('invites a fourth user on /invite, who gets the request and the invitation; REST shows who invited whom', async () => {
    await say('bob', `/invite xmpp ${users.dave.jid}`);
    await botSays('bob', `Invited ${label('dave')}.`);
    await botSays('alice', `${label('dave')} was invited by ${label('bob')}.`);
    await botSays('carol', `${label('dave')} was invited by ${label('bob')}.`);
    const request = await botPresence('dave', 'subscribe');
    expect(request.getChild('nick', NS_NICK)?.text()).toBe('Rest sync (parley)');
    await botSays(
      'dave',
      `You are invited by ${label('bob')} to the conference "Rest sync" — Planning. Reply /join to join, /help for the commands.`,
    );

    const listed = await restParticipants();
    const bob = listed.find((p) => p.address === users.bob.jid)!;
    expect(listed.map((p) => [p.address, p.invitedBy])).toEqual([
      [users.alice.jid, null],
      [users.bob.jid, null],
      [users.carol.jid, null],
      [
        users.dave.jid,
        { participantId: bob.id, network: 'xmpp', address: users.bob.jid, displayName: users.bob.username },
      ],
    ]);

    await say('dave', '/join');
    await botSays('dave', 'You joined "Rest sync" (3 others here). Send /help for the commands.');
    await botSays('carol', `${label('dave')} joined.`);
  });

  it('announces /exit to the others', async () => {
    await say('carol', '/exit');
    await botSays('carol', 'You left "Rest sync". Send /join to come back.');
    for (const who of ['alice', 'bob', 'dave'] as const) await botSays(who, `${label('carol')} left.`);
    expect((await restParticipant('carol'))?.state).toBe('left');
  });

  it('closes over REST: the bot says goodbye and goes offline; a later message hears that it has ended', async () => {
    const closed = expectStatus(await api('POST', `/conferences/${conferenceId}/close`), 200);
    expect(closed.state).toBe('terminated');
    const goodbye = 'The conference "Rest sync" was closed by its owner. Goodbye!';
    for (const who of PEOPLE) {
      await botSays(who, goodbye);
      await botPresence(who, 'unsubscribe');
      await botPresence(who, 'unavailable');
    }
    await say('alice', 'is anyone still here?');
    await botSays('alice', 'The conference "Rest sync" has ended.');
    for (const who of PEOPLE) expect(timesReceived(who, goodbye), who).toBe(1);
    expect(clients.bob.messagesFrom(bot).some((m) => m.includes('is anyone still here?'))).toBe(false);
    expect(expectStatus(await api('GET', `/conferences/${conferenceId}`), 200).state).toBe('terminated');
  });
});
