/**
 * Hostile participants (issue 13), end to end with real XMPP and IRC clients. The IRC side runs
 * against an ngircd with its DEFAULT flood control (about a line a second once the burst is spent,
 * as public networks have: `ngircd-flood` on PARLEY_IRC_FLOOD_PORT). Two conferences:
 *   A "Open floor" (open policy): alice, bob (XMPP), carol (IRC) — where the hostile things happen;
 *   B "Quiet room" (invite-only): eve (XMPP), dave (IRC) — which must not notice any of it.
 * Every case says what a user would check; more than a hundred hostile inputs (bot commands on both
 * networks, raw stanzas, bus messages) are each answered with one line or ignored, and the
 * conferences keep relaying. Bot-to-bot traffic is watched for on the bus during the whole file.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  HEADERS,
  conferencesRpc,
  dlqStream,
  imDeliveryV2Schema,
  imInboundV1Schema,
  streams,
  subjects,
  type ConferenceView,
} from '@parley/contracts';
import {
  IrcTestClient,
  XmppTestClient,
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  startTestService,
  testEnv,
  waitFor,
  xml,
  type XmppTestUser,
} from '@parley/testing';
import { AppModule as ArchiveModule } from '../../services/archive/src/app.module.js';
import { loadServiceConfig as loadArchiveConfig } from '../../services/archive/src/config.js';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { AppModule as PresenceModule } from '../../services/presence/src/app.module.js';
import { loadServiceConfig as loadPresenceConfig } from '../../services/presence/src/config.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { AppModule as XmppGatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppConfig } from '../../services/gateway-xmpp/src/config.js';
import { AppModule as IrcGatewayModule } from '../../services/gateway-irc/src/app.module.js';
import { loadServiceConfig as loadIrcConfig } from '../../services/gateway-irc/src/config.js';
import { botNick } from '../../services/gateway-irc/src/irc/bot-nick.js';

/** ngircd with its default flood control (deploy/ngircd/ngircd.flood.conf.in). */
const FLOOD_PORT = Number(process.env.PARLEY_IRC_FLOOD_PORT ?? 6668);
const IRC_NICK_LENGTH = 30;
const NS_NICK = 'http://jabber.org/protocol/nick';
const NS_PARLEY_BOT = 'urn:parley:bot:0';
/** Acceptance of issue 13: another conference keeps relaying within a second. */
const ANOTHER_CONFERENCE_WITHIN_MS = 1_000;
/** Acceptance of issue 13: no bot-to-bot traffic in the 30 s after the bot invitations. */
const BOT_SILENCE_MS = 30_000;

describe('hostile participants cannot break a conference, or anyone else’s', () => {
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  const apps: NestFastifyApplication[] = [];
  let rpc: RpcClient;
  let bus: JetStreamBus;
  let componentDomain: string;
  const users = {} as Record<'alice' | 'bob' | 'eve' | 'quinn' | 'mallory' | 'trudy' | 'oscar', XmppTestUser>;
  const xmpp = {} as Record<keyof typeof users, XmppTestClient>;
  const irc = {} as Record<'carol' | 'dave', IrcTestClient>;
  let a: ConferenceView;
  let b: ConferenceView;
  const bots = { a: { jid: '', nick: '' }, b: { jid: '', nick: '' } };
  /** Everything on IM_INBOUND and IM_OUTBOUND during the file, to find bot-to-bot traffic. */
  const inboundFrom: Array<{ at: number; from: string }> = [];
  const outboundTo: Array<{ at: number; to: string }> = [];
  const watchers: ConsumerMessages[] = [];
  let botInvitationsAt = 0;

  const isBotAddress = (address: string) =>
    address.toLowerCase().endsWith(`@${componentDomain}`) ||
    [bots.a.nick, bots.b.nick].includes(address.toLowerCase());

  async function watch(subject: string, record: (value: unknown) => void): Promise<void> {
    const consumer = await bus.js.consumers.get(
      subject.includes('.im.in.') ? streams.imInbound().name : streams.imOutbound().name,
      { filter_subjects: subject, deliver_policy: DeliverPolicy.New },
    );
    const messages = await consumer.consume();
    watchers.push(messages);
    void (async () => {
      for await (const m of messages) {
        try {
          record(m.json());
        } catch {
          // not JSON (one of the hostile bus messages): not a delivery or an inbound event
        }
      }
    })();
  }

  async function join(client: XmppTestClient, bot: string, nick?: string): Promise<void> {
    await client.send(
      xml(
        'message',
        { to: bot, type: 'chat' },
        xml('body', {}, '/join'),
        ...(nick ? [xml('nick', { xmlns: NS_NICK }, nick)] : []),
      ),
    );
    await client.waitForMessage(bot, /^You joined /);
  }

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    const core = await startTestService(
      'conference-core',
      CoreModule.forRoot(loadCoreConfig(serviceTestEnv('conference-core'))),
    );
    apps.push(core);
    rpc = core.get(RpcClient);
    bus = core.get(JetStreamBus);
    // Presence tells who is offline; the archive answers /history and /search.
    apps.push(
      await startTestService(
        'presence',
        PresenceModule.forRoot(loadPresenceConfig(serviceTestEnv('presence'))),
      ),
    );
    apps.push(
      await startTestService('archive', ArchiveModule.forRoot(loadArchiveConfig(serviceTestEnv('archive')))),
    );
    apps.push(
      await startTestService(
        'gateway-xmpp',
        XmppGatewayModule.forRoot(loadXmppConfig(serviceTestEnv('gateway-xmpp'))),
      ),
    );
    apps.push(
      await startTestService(
        'gateway-irc',
        IrcGatewayModule.forRoot(
          loadIrcConfig(
            serviceTestEnv('gateway-irc', {
              PARLEY_IRC_PORT: String(FLOOD_PORT),
              PARLEY_IRC_NICK_LENGTH: String(IRC_NICK_LENGTH),
              PARLEY_IRC_PRESENCE_POLL_MS: '1000',
              PARLEY_GATEWAY_RATE_RECIPIENT: '20',
            }),
          ),
        ),
      ),
    );
    await watch(subjects.imInboundAll(), (value) => {
      const event = imInboundV1Schema.safeParse(value);
      if (event.success) inboundFrom.push({ at: Date.now(), from: event.data.from });
    });
    await watch(subjects.imOutboundAll(), (value) => {
      const fanOut = imDeliveryV2Schema.safeParse(value);
      if (fanOut.success) for (const to of fanOut.data.recipients) outboundTo.push({ at: Date.now(), to });
    });
    for (const name of Object.keys({
      alice: 0,
      bob: 0,
      eve: 0,
      quinn: 0,
      mallory: 0,
      trudy: 0,
      oscar: 0,
    }) as Array<keyof typeof users>) {
      users[name] = await createXmppUser(name);
      xmpp[name] = await XmppTestClient.connect(users[name], { autoAcceptSubscriptions: true });
    }
    irc.carol = await IrcTestClient.connect('carol', { port: FLOOD_PORT });
    irc.dave = await IrcTestClient.connect('dave', { port: FLOOD_PORT });

    a = await rpc.call(conferencesRpc.create, { ownerId, name: 'Open floor', joinPolicy: 'open' });
    b = await rpc.call(conferencesRpc.create, { ownerId, name: 'Quiet room' });
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: a.id,
      participants: [
        { network: 'xmpp', address: users.alice.jid },
        { network: 'xmpp', address: users.bob.jid },
        { network: 'irc', address: irc.carol.nick },
      ],
    });
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: b.id,
      participants: [
        { network: 'xmpp', address: users.eve.jid },
        { network: 'xmpp', address: users.quinn.jid },
        { network: 'irc', address: irc.dave.nick },
      ],
    });
    for (const c of [a, b]) await rpc.call(conferencesRpc.start, { ownerId, conferenceId: c.id });
    bots.a = { jid: `${a.id}@${componentDomain}`, nick: botNick(a.id, IRC_NICK_LENGTH) };
    bots.b = { jid: `${b.id}@${componentDomain}`, nick: botNick(b.id, IRC_NICK_LENGTH) };
    await join(xmpp.alice, bots.a.jid);
    await join(xmpp.bob, bots.a.jid);
    await join(xmpp.eve, bots.b.jid);
    await join(xmpp.quinn, bots.b.jid);
    await irc.carol.waitForMessage(bots.a.nick, /^You are invited/, 20_000);
    irc.carol.say(bots.a.nick, '/join');
    await irc.carol.waitForMessage(bots.a.nick, /^You joined /, 20_000);
    await irc.dave.waitForMessage(bots.b.nick, /^You are invited/, 20_000);
    irc.dave.say(bots.b.nick, '/join');
    await irc.dave.waitForMessage(bots.b.nick, /^You joined /, 20_000);
  }, 120_000);

  afterAll(async () => {
    for (const w of watchers) await w.close().catch(() => undefined);
    await Promise.all([
      ...Object.values(xmpp).map((c) => c?.stop()),
      ...Object.values(irc).map((c) => c?.quit()),
    ]);
    for (const app of apps.reverse()) await app.close();
    await releaseComponentDomain?.();
  });

  /** Time from eve's message in the quiet room until dave (IRC) and, for dave's, eve (XMPP) have it. */
  async function quietRoomLatency(tag: string): Promise<number> {
    const fromEve = `quiet ${tag} ${randomBytes(2).toString('hex')}`;
    const started = Date.now();
    await xmpp.eve.sendMessage(bots.b.jid, fromEve);
    await irc.dave.waitForMessage(bots.b.nick, `[${users.eve.username} (xmpp)] ${fromEve}`, 15_000);
    const ircDelay = Date.now() - started;
    const fromDave = `back ${tag} ${randomBytes(2).toString('hex')}`;
    const again = Date.now();
    irc.dave.say(bots.b.nick, fromDave);
    await xmpp.eve.waitForMessage(bots.b.jid, `[${irc.dave.nick} (irc)] ${fromDave}`, 15_000);
    return Math.max(ircDelay, Date.now() - again);
  }

  /** Time from eve's message in the quiet room until quinn (XMPP) has it. */
  async function xmppLatency(tag: string): Promise<number> {
    const text = `xmpp ${tag} ${randomBytes(2).toString('hex')}`;
    const started = Date.now();
    await xmpp.eve.sendMessage(bots.b.jid, text);
    await xmpp.quinn.waitForMessage(bots.b.jid, `[${users.eve.username} (xmpp)] ${text}`, 15_000);
    return Date.now() - started;
  }

  it('long messages: the sender is told at once, nothing is half-sent, and the other conference keeps relaying within a second', async () => {
    await xmpp.alice.sendMessage(bots.a.jid, 'x'.repeat(16_300));
    await xmpp.alice.waitForMessage(
      bots.a.jid,
      'Too long: 16300 characters, the limit is 1000. Your message was not relayed; please split it.',
    );
    // At the limit, in two-byte characters: several IRC lines for carol through the flood control.
    const atLimit = 'é'.repeat(1_000);
    await xmpp.alice.sendMessage(bots.a.jid, atLimit);
    const latency = await quietRoomLatency('during the long message');
    expect(latency, 'the quiet room relays while the long message crawls to carol').toBeLessThan(
      ANOTHER_CONFERENCE_WITHIN_MS,
    );
    const prefix = `[${users.alice.username} (xmpp)] `;
    const lines = await waitFor(
      'carol to have the whole message, once',
      () => {
        const got = irc.carol.messagesFrom(bots.a.nick).filter((l) => l.startsWith(prefix) || /^é+$/.test(l));
        const text = got.join('').replaceAll(prefix, '').replace(/\s/g, '');
        return text.length >= 1_000 ? got : undefined;
      },
      60_000,
    );
    expect(lines.join('').replaceAll(prefix, '').replace(/\s/g, '')).toBe(atLimit);
    expect(irc.carol.messagesFrom(bots.a.nick).some((l) => l.includes('xxxxxxxxxx'))).toBe(false);
    expect(xmpp.bob.messagesFrom(bots.a.jid).some((m) => m.includes('xxxxxxxxxx'))).toBe(false);
  }, 90_000);

  it('bots never talk to bots: bot addresses cannot be invited, and a message marked as a bot’s is not answered', async () => {
    botInvitationsAt = Date.now();
    const refusals = [
      `/invite xmpp ${bots.a.jid}`,
      `/invite xmpp ${bots.b.jid}`,
      `/invite xmpp someone@${componentDomain}`,
      `/invite irc ${bots.b.nick}`,
      `/invite irc ${bots.a.nick}`,
    ];
    const refused = () =>
      xmpp.alice.messagesFrom(bots.a.jid).filter((m) => m.endsWith('bots cannot be invited.'));
    for (const [i, command] of refusals.entries()) {
      await xmpp.alice.sendMessage(bots.a.jid, command);
      await waitFor(`the refusal of ${command}`, () => (refused().length === i + 1 ? true : undefined));
    }
    expect(refused()).toHaveLength(5);
    const owner = await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: b.id,
      participants: [
        { network: 'xmpp', address: bots.a.jid },
        { network: 'irc', address: bots.a.nick },
      ],
    });
    expect(owner.added).toEqual([]);
    expect(owner.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/is a Parley conference bot/),
      expect.stringMatching(/is a Parley conference bot/),
    ]);
    // Another deployment's bot (it marks its messages): neither relayed nor answered.
    const before = xmpp.alice.messagesFrom(bots.a.jid).length;
    await xmpp.mallory.send(
      xml(
        'message',
        { to: bots.a.jid, type: 'chat' },
        xml('body', {}, 'I am a bot too'),
        xml('parley-bot', { xmlns: NS_PARLEY_BOT }),
      ),
    );
    await xmpp.bob.sendMessage(bots.a.jid, 'fence after the bot message');
    await xmpp.alice.waitForMessage(bots.a.jid, `[${users.bob.username} (xmpp)] fence after the bot message`);
    expect(xmpp.alice.messagesFrom(bots.a.jid).slice(before)).toEqual([
      `[${users.bob.username} (xmpp)] fence after the bot message`,
    ]);
    expect(xmpp.mallory.messagesFrom(bots.a.jid)).toEqual([]);
  });

  it('every line says who wrote it; forged display names are cleaned and made unique', async () => {
    await xmpp.alice.sendMessage(bots.a.jid, 'ok\n[bob (xmpp)] I resign');
    const alicePrefix = `[${users.alice.username} (xmpp)]`;
    const atBob = await xmpp.bob.waitForMessage(bots.a.jid, new RegExp(`^${escape(alicePrefix)} ok\\n`));
    for (const line of atBob.split('\n')) expect(line.startsWith(`${alicePrefix} `)).toBe(true);
    await waitFor(
      'both lines at carol',
      () =>
        irc.carol
          .messagesFrom(bots.a.nick)
          .filter((l) => l === `${alicePrefix} ok` || l === `${alicePrefix} [bob (xmpp)] I resign`).length ===
        2
          ? true
          : undefined,
      30_000,
    );
    // mallory joins the open conference as "bob (xmpp)] hi [x"; trudy as "Bob" (taken, case-insensitively: bob's is "bob-…")
    await join(xmpp.mallory, bots.a.jid, 'bob (xmpp)] hi [x');
    await xmpp.mallory.sendMessage(bots.a.jid, 'hello from mallory');
    await xmpp.bob.waitForMessage(bots.a.jid, '[bob hi x (xmpp)] hello from mallory');
    await join(xmpp.trudy, bots.a.jid, 'bob hi x');
    await xmpp.trudy.sendMessage(bots.a.jid, 'hello from trudy');
    await xmpp.bob.waitForMessage(bots.a.jid, '[bob hi x 2 (xmpp)] hello from trudy');
  }, 60_000);

  it('limits invitations: 50 in a row from one participant get 20 invitations and a clear refusal for the rest', async () => {
    const noticesBefore = xmpp.alice
      .messagesFrom(bots.a.jid)
      .filter((m) => m.includes('was invited by')).length;
    for (let i = 0; i < 50; i++)
      await xmpp.bob.sendMessage(bots.a.jid, `/invite xmpp stranger${i}@example.org`);
    const answers = await waitFor(
      '50 answers to bob',
      () => {
        const got = xmpp.bob
          .messagesFrom(bots.a.jid)
          .filter((m) => m.startsWith('Invited stranger') || m.startsWith('You have invited'));
        return got.length >= 50 ? got : undefined;
      },
      30_000,
    );
    expect(answers.filter((m) => m.startsWith('Invited stranger'))).toHaveLength(20);
    expect(
      answers.filter((m) =>
        m.startsWith('You have invited 20 people, the most one participant may invite here'),
      ),
    ).toHaveLength(30);
    const notices =
      xmpp.alice.messagesFrom(bots.a.jid).filter((m) => m.includes('was invited by')).length - noticesBefore;
    expect(notices).toBe(20);
  }, 60_000);

  it('a stranger’s flood: a few refusals, then silence, and the conference relays as before', async () => {
    const baseline: number[] = [];
    for (let i = 0; i < 7; i++) baseline.push(await xmppLatency(`baseline ${i}`));
    // oscar is in no conference; the quiet room is invite-only.
    const flooding = (async () => {
      for (let i = 0; i < 200; i++) await xmpp.oscar.sendMessage(bots.b.jid, `let me in ${i}`);
    })();
    const during: number[] = [];
    for (let i = 0; i < 7; i++) during.push(await xmppLatency(`flood ${i}`));
    await flooding;
    await xmpp.eve.sendMessage(bots.b.jid, 'after the flood');
    await irc.dave.waitForMessage(bots.b.nick, `[${users.eve.username} (xmpp)] after the flood`, 15_000);
    const refusals = xmpp.oscar.messagesFrom(bots.b.jid);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.length).toBeLessThanOrEqual(3);
    expect(new Set(refusals)).toEqual(
      new Set(['Sorry, "Quiet room" is a private conference: only invited participants can take part.']),
    );
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // "Unchanged within noise": the median under the flood stays within a small multiple of the baseline.
    expect(median(during)).toBeLessThanOrEqual(3 * median(baseline) + 100);
  }, 120_000);

  it('a nick taken over on IRC gets nothing that was meant for the one who left', async () => {
    const nick = irc.dave.nick;
    const lists = () => xmpp.eve.messagesFrom(bots.b.jid).filter((m) => m.startsWith('Participants of'));
    /**
     * Sends eve's list command and returns the bot's answer to it. The conference handles eve's
     * messages in the order she sent them, so the answer also says that what she sent before it
     * was decided.
     */
    const askList = async (command: '/list' | '/list status') => {
      const answered = lists().length;
      await xmpp.eve.sendMessage(bots.b.jid, command);
      return waitFor(`the bot to answer eve's ${command}`, () => lists()[answered], 10_000);
    };
    /** Waits until eve's /list status shows dave's nick with this presence. */
    const untilListed = (presence: 'online' | 'offline') =>
      waitFor(
        `the quiet room to see ${nick} ${presence}`,
        async () =>
          (await askList('/list status')).includes(`${nick} (irc, unverified): joined, ${presence}`)
            ? true
            : undefined,
        20_000,
        1_000,
      );
    await irc.dave.quit();
    // Once the bot has seen the nick go, nothing is sent to it: not now, not to its next holder.
    await untilListed('offline');
    await xmpp.eve.sendMessage(bots.b.jid, 'while dave is away');
    // Its answer says the message was decided while dave was away (before, the first list answer
    // of the test was taken for it, and dave could come back before the message was decided).
    expect(await askList('/list')).toContain(`${nick} (irc, unverified): joined`);
    irc.dave = await IrcTestClient.connect('dave', { port: FLOOD_PORT, nick });
    await untilListed('online');
    await xmpp.eve.sendMessage(bots.b.jid, 'fence for the new holder');
    await irc.dave.waitForMessage(
      bots.b.nick,
      `[${users.eve.username} (xmpp)] fence for the new holder`,
      20_000,
    );
    expect(irc.dave.messagesFrom(bots.b.nick).some((m) => m.includes('while dave is away'))).toBe(false);
  }, 60_000);

  it('answers or ignores more than a hundred hostile inputs, and both conferences keep relaying', async () => {
    const commands = [
      '/',
      '//',
      '/ join',
      '/join now',
      '/JOIN',
      '—join please',
      '--list everyone',
      '/list bogus',
      '/list status now',
      '/invite',
      '/invite xmpp',
      '/invite pigeon bob@example.org',
      '/invite xmpp not-an-address',
      '/invite xmpp a@b/c',
      '/invite irc bad nick',
      '/invite irc @@@',
      '/invite xmpp x@-bad-.example',
      '/history -5',
      '/history 99999999999999999999 years',
      '/history 3 fortnights',
      '/history ;DROP TABLE archive',
      '/search',
      '/search %',
      "/search ' OR 1=1 --",
      '/pause now',
      '/resume again',
      '/exit please',
      '/quit now',
      '/unknown',
      '/HELP',
      '/help me',
      '/me waves',
      '/\u202eevil',
      `/${'a'.repeat(500)}`,
      '/invite xmpp ' + 'a'.repeat(400) + '@example.org',
      '/list\ttab',
      '/history \u200b',
      '/search 🤖',
      '/conf nothing',
      '/close',
      '/remove bob',
    ];
    expect(commands.length).toBeGreaterThanOrEqual(40);
    const aliceBefore = xmpp.alice.messagesFrom(bots.a.jid).length;
    for (const command of commands) await xmpp.alice.sendMessage(bots.a.jid, command);
    // One answer each, but for the texts that are not commands ("/ join", "/me waves", …: relayed).
    await waitFor(
      `answers to ${commands.length} XMPP commands`,
      () =>
        xmpp.alice.messagesFrom(bots.a.jid).length - aliceBefore >= commands.length - 8 ? true : undefined,
      60_000,
    );
    for (const answer of xmpp.alice.messagesFrom(bots.a.jid).slice(aliceBefore))
      expect(answer.length).toBeGreaterThan(0);

    // Through the flood control a line takes about a second: fewer, and no multi-line /help.
    const ircCommands = commands.filter((c) => !/help/i.test(c)).slice(0, 30);
    const carolBefore = irc.carol.messagesFrom(bots.a.nick).length;
    for (const command of ircCommands) irc.carol.say(bots.a.nick, command);
    await waitFor(
      `answers to ${ircCommands.length} IRC commands`,
      () =>
        irc.carol.messagesFrom(bots.a.nick).length - carolBefore >= ircCommands.length - 5 ? true : undefined,
      150_000,
    );

    // Raw stanzas: errors, group chat, headlines, no body, odd iqs and presences — ignored or refused.
    const stanzas = [
      xml('message', { to: bots.a.jid, type: 'error' }, xml('body', {}, 'an error')),
      xml('message', { to: bots.a.jid, type: 'groupchat' }, xml('body', {}, 'group chat')),
      xml('message', { to: bots.a.jid, type: 'headline' }, xml('body', {}, 'headline')),
      xml('message', { to: bots.a.jid, type: 'chat' }),
      xml('message', { to: bots.a.jid, type: 'chat' }, xml('subject', {}, 's'.repeat(5_000))),
      xml('message', { to: bots.a.jid, type: 'chat' }, xml('body', {}, '')),
      xml('message', { to: bots.a.jid, type: 'weird' }, xml('body', {}, 'weird type')),
      xml(
        'message',
        { to: `no-such-conference-zz@${componentDomain}`, type: 'chat' },
        xml('body', {}, 'anyone?'),
      ),
      xml('message', { to: `UPPER.Case_@${componentDomain}`, type: 'chat' }, xml('body', {}, 'anyone?')),
      xml('message', { to: componentDomain, type: 'chat' }, xml('body', {}, 'hello service')),
      xml('iq', { to: bots.a.jid, type: 'get', id: 'q1' }, xml('query', { xmlns: 'urn:example:nonsense' })),
      xml('iq', { to: bots.a.jid, type: 'set', id: 'q2' }, xml('query', { xmlns: 'jabber:iq:roster' })),
      xml('iq', { to: bots.a.jid, type: 'result', id: 'q3' }),
      xml('presence', { to: bots.b.jid, type: 'subscribe' }),
      xml('presence', { to: bots.a.jid, type: 'probe' }),
      xml('presence', { to: bots.a.jid, type: 'nonsense' }),
      xml('presence', { to: bots.a.jid, type: 'unsubscribed' }),
      xml('message', { to: bots.b.jid, type: 'chat' }, xml('body', {}, '/join')),
      xml('message', { to: bots.a.jid, type: 'chat' }, xml('thread', {}, 't'), xml('body', {}, '\u200b')),
    ];
    for (const stanza of stanzas) await xmpp.mallory.send(stanza);

    // Bus messages a broken or hostile gateway could publish: dead-lettered with a reason, never stalling.
    const badInbound = [
      'not json',
      '{}',
      '[]',
      'null',
      JSON.stringify({ id: 'x', kind: 'message' }),
      JSON.stringify({
        id: 'x2',
        occurredAt: 'yesterday',
        kind: 'message',
        network: 'xmpp',
        conferenceId: a.id,
        from: 'a@b',
        body: 'hi',
      }),
      JSON.stringify({
        id: 'x3',
        occurredAt: new Date().toISOString(),
        kind: 'telepathy',
        network: 'xmpp',
        conferenceId: a.id,
        from: 'a@b',
      }),
      JSON.stringify({
        id: 'x4',
        occurredAt: new Date().toISOString(),
        kind: 'message',
        network: 'carrier-pigeon',
        conferenceId: a.id,
        from: 'a@b',
        body: 'hi',
      }),
      JSON.stringify({
        id: 'x5',
        occurredAt: new Date().toISOString(),
        kind: 'message',
        network: 'xmpp',
        conferenceId: a.id,
        from: '',
        body: 'hi',
      }),
      JSON.stringify({
        id: 'x6',
        occurredAt: new Date().toISOString(),
        kind: 'message',
        network: 'xmpp',
        conferenceId: a.id,
        from: 'a@b',
        body: 'y'.repeat(20_000),
      }),
      JSON.stringify({
        id: 'x7',
        occurredAt: new Date().toISOString(),
        kind: 'subscription',
        network: 'xmpp',
        conferenceId: a.id,
        from: 'a@b',
        subscription: 'maybe',
      }),
      JSON.stringify({
        id: '',
        occurredAt: new Date().toISOString(),
        kind: 'message',
        network: 'xmpp',
        conferenceId: a.id,
        from: 'a@b',
        body: 'hi',
      }),
    ];
    for (const [i, data] of badInbound.entries()) {
      await bus.js.publish(subjects.imInbound('xmpp', a.id), data, {
        msgID: `hostile-bus-${i}-${randomBytes(3).toString('hex')}`,
      });
    }
    const dlq = await bus.js.consumers.get(dlqStream().name, { deliver_policy: DeliverPolicy.All });
    const deadLettered = await waitFor(
      `${badInbound.length} bad bus messages in the dead-letter stream`,
      async () => {
        const batch = await dlq.fetch({ max_messages: 500, expires: 1_000 });
        const reasons: string[] = [];
        for await (const m of batch) {
          if (m.headers?.get(HEADERS.dlqSubject) === subjects.imInbound('xmpp', a.id))
            reasons.push(m.headers.get(HEADERS.dlqReason));
        }
        return reasons.length >= badInbound.length ? reasons : undefined;
      },
      20_000,
    );
    for (const reason of deadLettered) expect(reason).toMatch(/^schema-invalid: /);

    const total = commands.length + ircCommands.length + stanzas.length + badInbound.length;
    expect(total).toBeGreaterThanOrEqual(100);
    // And both conferences still relay, both ways.
    await xmpp.alice.sendMessage(bots.a.jid, 'still here');
    await irc.carol.waitForMessage(bots.a.nick, `[${users.alice.username} (xmpp)] still here`, 30_000);
    await quietRoomLatency('after the hostile inputs');
  }, 300_000);

  it('no bot talked to a bot: nothing from or to a bot address on the bus in the 30 s after the bot invitations', async () => {
    const remaining = botInvitationsAt + BOT_SILENCE_MS - Date.now();
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    expect(botInvitationsAt).toBeGreaterThan(0);
    expect(inboundFrom.filter((e) => isBotAddress(e.from))).toEqual([]);
    expect(outboundTo.filter((e) => isBotAddress(e.to))).toEqual([]);
  }, 60_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
