/**
 * Conferences over XMPP, end to end: conference-core and gateway-xmpp started in-process against
 * the real NATS, PostgreSQL and Prosody; real @xmpp/client users talk to the conference bot; the
 * owner's operations go through the conferences RPCs (the REST API maps onto them).
 *
 * Prosody accepts one connection per component domain, so every test that connects gateway-xmpp
 * holds a PostgreSQL advisory lock meanwhile (other files and concurrent runs wait their turn).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Element } from '@xmpp/xml';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferencesRpc,
  streams,
  presenceUpdateV1Schema,
  type ConferenceView,
  type ParticipantView,
} from '@parley/contracts';
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
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { AppModule as GatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadGatewayConfig } from '../../services/gateway-xmpp/src/config.js';
import { GatewayService } from '../../services/gateway-xmpp/src/gateway/gateway.service.js';

const NS_NICK = 'http://jabber.org/protocol/nick';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
/** This file's component domain: set again once one is held (holdXmppComponentDomain). */
let componentDomain = testEnv.xmpp().componentDomain;

describe('conferences over XMPP, end to end', () => {
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  let core: NestFastifyApplication;
  let gateway: NestFastifyApplication;
  let rpc: RpcClient;
  const users: Record<'alice' | 'bob' | 'carol' | 'dave' | 'eve', XmppTestUser> = {} as never;
  const clients: Record<'alice' | 'bob' | 'carol' | 'dave' | 'eve', XmppTestClient> = {} as never;
  let conference: ConferenceView;
  let bot: string;

  const label = (who: keyof typeof users) => `${users[who].username} (xmpp)`;
  const say = (who: keyof typeof clients, body: string, to = bot) => clients[who].sendMessage(to, body);
  const botSays = (who: keyof typeof clients, body: string | RegExp, from = bot) =>
    clients[who].waitForMessage(from, body, 15_000);
  const participants = async () =>
    (await rpc.call(conferencesRpc.listParticipants, { ownerId, conferenceId: conference.id })).participants;
  const participant = async (who: keyof typeof users): Promise<ParticipantView> =>
    (await participants()).find((p) => p.address === users[who].jid)!;
  /** Messages any bot of our domain sent to `who`, in order. */
  const fromBots = (who: keyof typeof clients) =>
    clients[who].received
      .filter((s) => {
        const from = bare(s.attrs.from);
        return s.is('message') && (from === componentDomain || from.endsWith(`@${componentDomain}`));
      })
      .map((s) => s.getChildText('body'))
      .filter((text): text is string => text !== null);

  /** Starts gateway-xmpp on this file's bus prefix, connected to Prosody as the component domain. */
  async function startGateway(): Promise<NestFastifyApplication> {
    const config = loadGatewayConfig(serviceTestEnv('gateway-xmpp'));
    return startTestService('gateway-xmpp', GatewayModule.forRoot(config));
  }

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    const coreConfig = loadCoreConfig(serviceTestEnv('conference-core'));
    core = await startTestService('conference-core', CoreModule.forRoot(coreConfig));
    gateway = await startGateway();
    rpc = core.get(RpcClient);
    for (const name of ['alice', 'bob', 'carol', 'dave', 'eve'] as const) {
      users[name] = await createXmppUser(name);
    }
    await Promise.all(
      (['alice', 'bob', 'carol', 'dave', 'eve'] as const).map(async (name) => {
        clients[name] = await XmppTestClient.connect(users[name], { autoAcceptSubscriptions: true });
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c?.stop()));
    await gateway?.close();
    await core?.close();
    await releaseComponentDomain?.();
  });

  it('reports the component connection in /health/ready', async () => {
    const ready = await fetch(`${await gateway.getUrl()}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      // Online itself, not a standby (which is ready too, with "standing by").
      checks: expect.arrayContaining([
        { name: 'XmppComponentHealthIndicator', ok: true, detail: 'xmpp: online' },
      ]),
    });
  });

  it('lets the owner create and edit a conference, adding participants with one error per bad address', async () => {
    conference = await rpc.call(conferencesRpc.create, {
      ownerId,
      name: 'Team sync',
      subject: 'draft subject',
    });
    expect(conference).toMatchObject({
      state: 'draft',
      botName: 'Team sync (parley)',
      joinPolicy: 'invite-only',
    });
    expect(conference.id).toMatch(/^team-sync-[a-z0-9]{6}$/);
    bot = `${conference.id}@${componentDomain}`;

    conference = await rpc.call(conferencesRpc.update, {
      ownerId,
      conferenceId: conference.id,
      subject: 'Weekly sync',
      ttlSeconds: 3600,
    });
    expect(conference).toMatchObject({ subject: 'Weekly sync', ttlSeconds: 3600 });

    const result = await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: conference.id,
      participants: [
        { network: 'xmpp', address: users.alice.jid },
        { network: 'xmpp', address: 'not a jid' },
        { network: 'xmpp', address: users.bob.jid.toUpperCase() },
        { network: 'icq', address: '12345' },
        { network: 'xmpp', address: users.carol.jid },
        { network: 'xmpp', address: users.alice.jid },
        { network: 'xmpp', address: 'frank@localhost' },
      ],
    });
    expect(result.added.map((p) => p.address)).toEqual([
      users.alice.jid,
      users.bob.jid,
      users.carol.jid,
      'frank@localhost',
    ]);
    expect(result.errors).toEqual([
      expect.objectContaining({ index: 1, field: 'participants.1.address', code: 'validation-failed' }),
      expect.objectContaining({ index: 3, field: 'participants.3.network', code: 'validation-failed' }),
      expect.objectContaining({ index: 5, code: 'conflict' }),
    ]);
    const frank = result.added.find((p) => p.address === 'frank@localhost')!;
    const removed = await rpc.call(conferencesRpc.removeParticipant, {
      ownerId,
      conferenceId: conference.id,
      participantId: frank.id,
    });
    expect(removed.state).toBe('removed');

    await expect(
      rpc.call(conferencesRpc.get, { ownerId: 'someone-else', conferenceId: conference.id }),
    ).rejects.toMatchObject({
      code: 'not-found',
    });
    const listed = await rpc.call(conferencesRpc.list, { ownerId });
    expect(listed.conferences.map((c) => c.id)).toEqual([conference.id]);
  });

  it('on start, sends each invitee a subscription request with the bot nick, then the invitation', async () => {
    conference = await rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
    expect(conference.state).toBe('active');
    for (const who of ['alice', 'bob', 'carol'] as const) {
      const request = await clients[who].waitForStanza(
        'the bot subscription request',
        (s) => s.is('presence') && s.attrs.type === 'subscribe' && bare(s.attrs.from) === bot,
        15_000,
      );
      expect(request.getChild('nick', NS_NICK)?.text()).toBe('Team sync (parley)');
      await botSays(
        who,
        'You are invited to the conference "Team sync" — Weekly sync. Reply /join to join, /help for the commands.',
      );
      const requestAt = clients[who].received.indexOf(request);
      const invitationAt = clients[who].received.findIndex(
        (s) =>
          s.is('message') &&
          bare(s.attrs.from) === bot &&
          /You are invited/.test(s.getChildText('body') ?? ''),
      );
      expect(requestAt).toBeLessThan(invitationAt);
    }
    // They accepted (the test clients answer `subscribed`): the owner sees them authorized.
    await waitFor('the three to be authorized', async () =>
      (await participants()).filter((p) => p.state === 'authorized').length === 3 ? true : undefined,
    );
  });

  it('reports participants\u2019 presence to the presence stream', async () => {
    const bus = core.get(JetStreamBus);
    const consumer = await bus.js.consumers.get(streams.presenceUpdates().name);
    const seen: string[] = [];
    await waitFor(
      'alice presence on the presence stream',
      async () => {
        const batch = await consumer.fetch({ max_messages: 1, expires: 1_000 });
        for await (const m of batch) seen.push(presenceUpdateV1Schema.parse(m.json()).address);
        return seen.includes(users.alice.jid) ? true : undefined;
      },
      15_000,
    );
  });

  it('joins on /join (any prefix, any case) and tells the others', async () => {
    await say('alice', '/join');
    await botSays('alice', 'You joined "Team sync" (0 others here). Send /help for the commands.');
    await say('bob', '--JOIN');
    await botSays('alice', `${label('bob')} joined.`);
    await botSays('bob', /^You joined "Team sync" \(1 other here\)/);
    await say('carol', '\u2014Join');
    await botSays('alice', `${label('carol')} joined.`);
    await botSays('bob', `${label('carol')} joined.`);
    expect((await participant('carol')).state).toBe('joined');
  });

  it('relays a message to exactly the other two, once each, with the sender\u2019s name', async () => {
    await say('alice', 'hello everyone');
    const relayed = `[${label('alice')}] hello everyone`;
    await botSays('bob', relayed);
    await botSays('carol', relayed);
    // A later message from bob, relayed in order, proves no duplicate is still on its way.
    await say('bob', 'marker 1');
    await botSays('alice', `[${label('bob')}] marker 1`);
    await botSays('carol', `[${label('bob')}] marker 1`);
    expect(clients.bob.messagesFrom(bot).filter((m) => m === relayed)).toHaveLength(1);
    expect(clients.carol.messagesFrom(bot).filter((m) => m === relayed)).toHaveLength(1);
    expect(clients.alice.messagesFrom(bot).filter((m) => m.includes('hello everyone'))).toEqual([]);
    expect(clients.bob.messagesFrom(bot).filter((m) => m.includes('marker 1'))).toEqual([]);
    expect((await participant('alice')).messageCount).toBe(1);
  });

  it('stops delivery to a participant on /pause and restarts it on /resume', async () => {
    await say('bob', '/pause');
    await botSays('bob', /^Paused/);
    await say('alice', 'while bob is paused');
    await botSays('carol', `[${label('alice')}] while bob is paused`);
    await say('bob', '/resume');
    await botSays('bob', /^Resumed/);
    await say('alice', 'after bob resumed');
    await botSays('bob', `[${label('alice')}] after bob resumed`);
    expect(clients.bob.messagesFrom(bot).some((m) => m.includes('while bob is paused'))).toBe(false);
  });

  it('answers /list with the participants and their state', async () => {
    await say('carol', '/list');
    const list = await botSays('carol', /^Participants of "Team sync" \(3\):/);
    expect(list).toContain(`${label('alice')}: joined`);
    expect(list).toContain(`${label('bob')}: joined`);
    expect(list).toContain(`${label('carol')} — you: joined`);
  });

  it('invites a fourth person on /invite; the owner sees who invited whom', async () => {
    await say('alice', `/invite xmpp ${users.dave.jid}`);
    await botSays('alice', `Invited ${label('dave')}.`);
    await botSays('bob', `${label('dave')} was invited by ${label('alice')}.`);
    await clients.dave.waitForStanza(
      'the bot subscription request',
      (s) => s.is('presence') && s.attrs.type === 'subscribe' && bare(s.attrs.from) === bot,
    );
    await botSays(
      'dave',
      `You are invited by ${label('alice')} to the conference "Team sync" — Weekly sync. Reply /join to join, /help for the commands.`,
    );
    const dave = await participant('dave');
    const alice = await participant('alice');
    expect(dave.invitedBy).toEqual({
      participantId: alice.id,
      network: 'xmpp',
      address: users.alice.jid,
      displayName: users.alice.username,
    });
    expect((await participant('bob')).invitedBy).toBeNull();
    await say('dave', '/join');
    await botSays('carol', `${label('dave')} joined.`);
  });

  it('lists the conference in disco#items for a participant and not for a stranger; answers disco#info and vCard', async () => {
    const open = await rpc.call(conferencesRpc.create, { ownerId, name: 'Open house', joinPolicy: 'open' });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId: open.id });
    const items = async (who: keyof typeof clients): Promise<Array<Record<string, string>>> => {
      const result = await clients[who].xmpp.iqCaller.request(
        xml('iq', { type: 'get', to: componentDomain }, xml('query', { xmlns: NS_DISCO_ITEMS })),
      );
      return result
        .getChild('query', NS_DISCO_ITEMS)!
        .getChildren('item')
        .map((i: Element) => i.attrs as Record<string, string>);
    };
    expect(await items('alice')).toEqual(
      expect.arrayContaining([
        { jid: bot, name: 'Team sync (parley)' },
        { jid: `${open.id}@${componentDomain}`, name: 'Open house (parley)' },
      ]),
    );
    expect((await items('eve')).map((i) => i.jid)).toEqual([`${open.id}@${componentDomain}`]);

    const info = await clients.eve.xmpp.iqCaller.request(
      xml('iq', { type: 'get', to: bot }, xml('query', { xmlns: NS_DISCO_INFO })),
    );
    expect(info.getChild('query', NS_DISCO_INFO)!.getChild('identity')!.attrs).toMatchObject({
      category: 'client',
      type: 'bot',
      name: 'Team sync (parley)',
    });
    const vcard = await clients.alice.xmpp.iqCaller.request(
      xml('iq', { type: 'get', to: bot }, xml('vCard', { xmlns: 'vcard-temp' })),
    );
    expect(vcard.getChild('vCard', 'vcard-temp')!.getChildText('NICKNAME')).toBe('Team sync (parley)');
    // The open conference lets the stranger in by /join.
    const openBot = `${open.id}@${componentDomain}`;
    await say('eve', '/join', openBot);
    await botSays('eve', 'You joined "Open house" (0 others here). Send /help for the commands.', openBot);
    await rpc.call(conferencesRpc.close, { ownerId, conferenceId: open.id });
  });

  it('keeps one order at every recipient for 200 quick messages from two senders', async () => {
    const sendAll = async (who: 'alice' | 'bob', tag: string) => {
      for (let i = 0; i < 100; i++) await say(who, `${tag}-${i}`);
    };
    await Promise.all([sendAll('alice', 'a'), sendAll('bob', 'b')]);
    const burst = (who: keyof typeof clients) =>
      clients[who]
        .messagesFrom(bot)
        .filter((m) => /^\[[^\]]+\] [ab]-\d+$/.test(m))
        .map((m) => m.split('] ')[1]!);
    await waitFor(
      'carol and dave to get all 200',
      () => burst('carol').length >= 200 && burst('dave').length >= 200,
      60_000,
    );
    await waitFor(
      'alice and bob to get the other 100',
      () => burst('alice').length >= 100 && burst('bob').length >= 100,
      30_000,
    );
    const order = burst('carol');
    expect(order).toHaveLength(200);
    expect(burst('dave')).toEqual(order);
    expect(burst('alice')).toEqual(order.filter((m) => m.startsWith('b-')));
    expect(burst('bob')).toEqual(order.filter((m) => m.startsWith('a-')));
    const sequence = (tag: string) => Array.from({ length: 100 }, (_, i) => `${tag}-${i}`);
    expect(order.filter((m) => m.startsWith('a-'))).toEqual(sequence('a'));
    expect(order.filter((m) => m.startsWith('b-'))).toEqual(sequence('b'));
  });

  it('answers or ignores 30+ malformed and hostile inputs as specified, and keeps relaying', async () => {
    type Case = {
      what: string;
      send: () => Promise<unknown>;
      /** The one-line answer expected, or null when the input must be ignored (or relayed: see `relayed`). */
      answer: RegExp | null;
      /** The text the others must receive instead of an answer. */
      relayed?: string;
    };
    const message = (attrs: Record<string, string>, ...children: Element[]) =>
      clients.carol.send(xml('message', { to: bot, ...attrs }, ...children));
    const body = (text: string) => xml('body', {}, text);
    const cases: Case[] = [
      { what: 'empty body', send: () => say('carol', ''), answer: null },
      { what: 'blank body', send: () => say('carol', '   \n\t '), answer: null },
      {
        what: '100 kB body',
        send: () => say('carol', 'x'.repeat(100_000)),
        answer: /^Your message is too long/,
      },
      { what: 'only control characters', send: () => say('carol', '\u0085\u009f\u202e'), answer: null },
      {
        what: 'control characters inside text',
        send: () => say('carol', 'bell\u0085 \u009b31m red \u202ereversed'),
        answer: null,
        relayed: 'bell 31m red reversed',
      },
      {
        what: 'markup as text',
        send: () => say('carol', '<script>alert(1)</script> &amp;'),
        answer: null,
        relayed: '<script>alert(1)</script> &amp;',
      },
      { what: 'a lone slash', send: () => say('carol', '/'), answer: null, relayed: '/' },
      { what: '/me action', send: () => say('carol', '/me waves'), answer: null, relayed: '/me waves' },
      {
        what: 'unknown command',
        send: () => say('carol', '/frobnicate'),
        answer: /^Unknown command "\/frobnicate"\./,
      },
      {
        what: 'huge command word',
        send: () => say('carol', `/${'a'.repeat(5_000)}`),
        answer: /^Unknown command "\/a{40}…"\./,
      },
      {
        what: 'command in upper case',
        send: () => say('carol', '/LIST'),
        answer: /^Participants of "Team sync"/,
      },
      {
        what: 'command with em dash, mixed case',
        send: () => say('carol', '\u2014HeLp'),
        answer: /^Commands \(start them/,
      },
      {
        what: 'join when already joined',
        send: () => say('carol', '/JOIN'),
        answer: /^You are already in "Team sync"\.$/,
      },
      {
        what: '/join with an argument',
        send: () => say('carol', '/join now'),
        answer: /^\/join takes no arguments\./,
      },
      {
        what: '/pause with an argument',
        send: () => say('carol', '--pause please'),
        answer: /^\/pause takes no arguments\./,
      },
      {
        what: '/list with a bad filter',
        send: () => say('carol', '/list everyone'),
        answer: /^\/list takes nothing/,
      },
      {
        what: '/list status without the presence service (not started in this file)',
        send: () => say('carol', '/list status'),
        answer: /^Presence is not available right now/,
      },
      {
        what: '/history without the archive (not started in this file)',
        send: () => say('carol', '/history 5 hours'),
        answer: /^The archive is not available right now/,
      },
      { what: '/search without words', send: () => say('carol', '/search'), answer: /^\/search needs words/ },
      {
        what: '/invite without arguments',
        send: () => say('carol', '/invite'),
        answer: /^\/invite needs a network and an address/,
      },
      {
        what: '/invite without address',
        send: () => say('carol', '/invite xmpp'),
        answer: /^\/invite needs a network/,
      },
      {
        what: '/invite with three words',
        send: () => say('carol', '/invite xmpp a@b.c extra'),
        answer: /^\/invite needs/,
      },
      {
        what: '/invite unknown network',
        send: () => say('carol', '/invite icq 12345'),
        answer: /^Unknown network "icq": use xmpp or irc\./,
      },
      {
        what: '/invite invalid JID',
        send: () => say('carol', '/invite xmpp not-a-jid'),
        answer: /^Cannot invite "not-a-jid": an XMPP address must look like user@domain\./,
      },
      {
        what: '/invite JID with a resource',
        send: () => say('carol', '/invite xmpp x@localhost/phone'),
        answer: /bare JID/,
      },
      {
        what: '/invite bad domain',
        send: () => say('carol', '/invite xmpp x@-bad-.example'),
        answer: /not a valid host name/,
      },
      {
        what: '/invite someone already in',
        send: () => say('carol', `/invite xmpp ${users.alice.jid}`),
        answer: /is already a participant\.$/,
      },
      {
        what: '/invite someone the owner removed',
        send: () => say('carol', '/invite xmpp frank@localhost'),
        answer: /was removed by the owner/,
      },
      { what: 'groupchat message', send: () => message({ type: 'groupchat' }, body('/help')), answer: null },
      { what: 'headline message', send: () => message({ type: 'headline' }, body('/help')), answer: null },
      { what: 'error message', send: () => message({ type: 'error' }, body('/help')), answer: null },
      {
        what: 'message without body (chat state)',
        send: () =>
          message({ type: 'chat' }, xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })),
        answer: null,
      },
      {
        what: 'message to a bot of a conference that does not exist',
        send: () => say('carol', 'hello?', `no-such-conference-zz@${componentDomain}`),
        answer: /^There is no conference at this address\.$/,
      },
      {
        what: 'message to an address no conference can have',
        send: () => say('carol', 'hello?', `Not.A_Conference@${componentDomain}`),
        answer: /^There is no conference at this address\.$/,
      },
      {
        what: 'message to the component domain',
        send: () => say('carol', 'hello?', componentDomain),
        answer: /^This is Parley conferences/,
      },
    ];
    expect(cases.length).toBeGreaterThanOrEqual(30);

    for (const [index, c] of cases.entries()) {
      const before = fromBots('carol').length;
      await c.send();
      // A sentinel after each input: everything the input caused arrives before the sentinel's answer.
      await say('carol', `/sentinel${index}`);
      await botSays('carol', new RegExp(`^Unknown command "/sentinel${index}"`));
      const answers = fromBots('carol').slice(before);
      const sentinelAt = answers.findIndex((a) => a.startsWith(`Unknown command "/sentinel${index}"`));
      const caused = answers.slice(0, sentinelAt);
      if (c.answer) {
        expect(caused, c.what).toHaveLength(1);
        expect(caused[0], c.what).toMatch(c.answer);
      } else {
        expect(caused, c.what).toEqual([]);
      }
      if (c.relayed) await botSays('alice', `[${label('carol')}] ${c.relayed}`);
    }

    // Stanzas that are not messages.
    const iqError = (to: string, child: Element, type: 'get' | 'set' = 'get') =>
      clients.carol.xmpp.iqCaller.request(xml('iq', { type, to }, child)).then(
        () => 'no error',
        (error: { condition?: string }) => error.condition,
      );
    expect(await iqError(bot, xml('query', { xmlns: 'urn:example:unknown' }))).toBe('service-unavailable');
    expect(await iqError(bot, xml('query', { xmlns: 'urn:example:unknown' }), 'set')).toBe(
      'service-unavailable',
    );
    expect(
      await iqError(`no-such-conference-zz@${componentDomain}`, xml('vCard', { xmlns: 'vcard-temp' })),
    ).toBe('item-not-found');
    expect(
      await iqError(`no-such-conference-zz@${componentDomain}`, xml('query', { xmlns: NS_DISCO_INFO })),
    ).toBe('item-not-found');
    await clients.carol.send(xml('presence', { to: bot, type: 'probe' }));
    await clients.carol.waitForStanza(
      'the bot presence answering a probe',
      (s) => s.is('presence') && bare(s.attrs.from) === bot && s.attrs.type === undefined,
    );

    // A stranger is refused politely, whatever they send, and cannot add the invite-only bot.
    await say('eve', 'hello there');
    await botSays(
      'eve',
      'Sorry, "Team sync" is a private conference: only invited participants can take part.',
    );
    await say('eve', '/join');
    await waitFor('two refusals for eve', () => clients.eve.messagesFrom(bot).length >= 2);
    await say('eve', '/list');
    await waitFor('three refusals for eve', () => clients.eve.messagesFrom(bot).length >= 3);
    expect(
      clients.eve.messagesFrom(bot).every((m) => m.startsWith('Sorry, "Team sync" is a private conference')),
    ).toBe(true);
    await clients.eve.send(xml('presence', { to: bot, type: 'subscribe' }));
    await clients.eve.waitForStanza(
      'the bot to refuse the subscription',
      (s) => s.is('presence') && bare(s.attrs.from) === bot && s.attrs.type === 'unsubscribed',
    );
    expect((await participants()).some((p) => p.address === users.eve.jid)).toBe(false);

    // And the conference still relays.
    await say('bob', 'still here after all that');
    await botSays('carol', `[${label('bob')}] still here after all that`);
    await botSays('dave', `[${label('bob')}] still here after all that`);
  });

  it('announces /exit to the others', async () => {
    await say('carol', '/exit');
    await botSays('carol', 'You left "Team sync". Send /join to come back.');
    await botSays('alice', `${label('carol')} left.`);
    await botSays('dave', `${label('carol')} left.`);
    await say('carol', 'am I still here?');
    await botSays('carol', /^You left this conference: send \/join/);
    expect(await participant('carol')).toMatchObject({ state: 'left', messageCount: expect.any(Number) });
  });

  it('closes the conference: goodbye, authorization revoked, bot offline, then "has ended" (the gateway being down meanwhile)', async () => {
    // The gateway is away while the owner closes: the deliveries wait in IM_OUTBOUND for it.
    await gateway.close();
    conference = await rpc.call(conferencesRpc.close, { ownerId, conferenceId: conference.id });
    expect(conference.state).toBe('terminated');
    gateway = await startGateway();
    const goodbye = 'The conference "Team sync" was closed by its owner. Goodbye!';
    for (const who of ['alice', 'bob', 'carol', 'dave'] as const) {
      await botSays(who, goodbye);
      // The bot cancels its subscription to the participant (their server forwards `unsubscribe`;
      // its `unsubscribed` only matters to clients that had subscribed to the bot) and goes offline.
      for (const type of ['unsubscribe', 'unavailable']) {
        await clients[who].waitForStanza(
          `presence ${type} from the bot`,
          (s) => s.is('presence') && bare(s.attrs.from) === bot && s.attrs.type === type,
        );
      }
      const roster = await clients[who].xmpp.iqCaller.request(
        xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })),
      );
      const item = roster
        .getChild('query', 'jabber:iq:roster')!
        .getChildren('item')
        .find((i: Element) => i.attrs.jid === bot);
      expect(item?.attrs.subscription ?? 'none', `${who}'s roster entry for the bot`).toBe('none');
    }
    await say('alice', 'anyone?');
    await botSays('alice', 'The conference "Team sync" has ended.');
    for (const who of ['alice', 'bob', 'carol', 'dave'] as const) {
      expect(clients[who].messagesFrom(bot).filter((m) => m === goodbye)).toHaveLength(1);
    }
    const cleaned = await rpc.call(conferencesRpc.cleanParticipants, {
      ownerId,
      conferenceId: conference.id,
    });
    expect(cleaned.removed).toBe(2); // carol (left) and frank (removed)
    expect((await participants()).map((p) => p.address).sort()).toEqual(
      [users.alice.jid, users.bob.jid, users.dave.jid].sort(),
    );
  });

  it('reports the component down in /health/ready once its connection is gone', async () => {
    await gateway.get(GatewayService).adapter.stop();
    const ready = await fetch(`${await gateway.getUrl()}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'unavailable',
      checks: expect.arrayContaining([
        expect.objectContaining({ name: 'XmppComponentHealthIndicator', ok: false }),
      ]),
    });
  });
});
