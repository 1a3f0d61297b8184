/**
 * One conference across two networks, end to end: conference-core, gateway-xmpp and gateway-irc
 * started in-process against the real NATS, PostgreSQL, Prosody and ngircd; two real XMPP users
 * (@xmpp/client) and two real IRC users (irc-framework) talk to the same conference bot, each on
 * their own network. The owner's operations go through the conferences RPCs.
 *
 * gateway-xmpp holds the XMPP component domain (Prosody accepts one connection per domain).
 * This file restarts the shared ngircd once (`deploy/local/services.sh restart-ngircd`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferencesRpc,
  presenceUpdateV1Schema,
  streams,
  type ConferenceView,
  type PresenceUpdateV1,
} from '@parley/contracts';
import { GatewayRuntime } from '@parley/gateway-kit';
import {
  IrcTestClient,
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  testEnv,
  waitFor,
  XmppTestClient,
  type XmppTestUser,
  startTestService,
} from '@parley/testing';
import { AppModule as CoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadCoreConfig } from '../../services/conference-core/src/config.js';
import { AppModule as XmppGatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppConfig } from '../../services/gateway-xmpp/src/config.js';
import { AppModule as IrcGatewayModule } from '../../services/gateway-irc/src/app.module.js';
import { loadServiceConfig as loadIrcConfig } from '../../services/gateway-irc/src/config.js';
import { botNick } from '../../services/gateway-irc/src/irc/bot-nick.js';

const run = promisify(execFile);
const IRC_NICK_LENGTH = 30; // deploy/ngircd/ngircd.test.conf.in: MaxNickLength
const XMPP = ['alice', 'bob'] as const;
const IRC = ['carol', 'dave'] as const;
type Who = (typeof XMPP)[number] | (typeof IRC)[number];
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const isXmpp = (who: Who): who is (typeof XMPP)[number] => (XMPP as readonly string[]).includes(who);

describe('a conference across XMPP and IRC, end to end', () => {
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  const apps: NestFastifyApplication[] = [];
  let ircGateway: NestFastifyApplication;
  let rpc: RpcClient;
  const xmppUsers = {} as Record<(typeof XMPP)[number], XmppTestUser>;
  const xmpp = {} as Record<(typeof XMPP)[number], XmppTestClient>;
  const irc = {} as Record<(typeof IRC)[number], IrcTestClient>;
  let conference: ConferenceView;
  let bot: { jid: string; nick: string };

  const address = (who: Who) => (isXmpp(who) ? xmppUsers[who].jid : irc[who].nick);
  const label = (who: Who) => (isXmpp(who) ? `${xmppUsers[who].username} (xmpp)` : `${irc[who].nick} (irc)`);
  const say = async (who: Who, text: string) => {
    if (isXmpp(who)) await xmpp[who].sendMessage(bot.jid, text);
    else irc[who].say(bot.nick, text);
  };
  /** What the bot said to `who`, in order (one entry per IRC line). */
  const heard = (who: Who) =>
    isXmpp(who) ? xmpp[who].messagesFrom(bot.jid) : irc[who].messagesFrom(bot.nick);
  const botSays = (who: Who, text: string | RegExp, timeoutMs = 15_000) =>
    isXmpp(who)
      ? xmpp[who].waitForMessage(bot.jid, text, timeoutMs)
      : irc[who].waitForMessage(bot.nick, text, timeoutMs);

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    const coreConfig = loadCoreConfig(serviceTestEnv('conference-core'));
    apps.push(await startTestService('conference-core', CoreModule.forRoot(coreConfig)));
    rpc = apps[0]!.get(RpcClient);
    const xmppConfig = loadXmppConfig(serviceTestEnv('gateway-xmpp'));
    apps.push(await startTestService('gateway-xmpp', XmppGatewayModule.forRoot(xmppConfig)));
    const ircConfig = loadIrcConfig(
      serviceTestEnv('gateway-irc', {
        PARLEY_IRC_NICK_LENGTH: String(IRC_NICK_LENGTH),
        // The test ngircd has no flood penalty; keep the test quick.
        PARLEY_GATEWAY_RATE_RECIPIENT: '100',
        PARLEY_GATEWAY_RATE_NETWORK: '1000',
        PARLEY_IRC_PRESENCE_POLL_MS: '1000',
      }),
    );
    ircGateway = await startTestService('gateway-irc', IrcGatewayModule.forRoot(ircConfig));
    apps.push(ircGateway);
    for (const who of XMPP) {
      xmppUsers[who] = await createXmppUser(who);
      xmpp[who] = await XmppTestClient.connect(xmppUsers[who], { autoAcceptSubscriptions: true });
    }
    for (const who of IRC) irc[who] = await IrcTestClient.connect(who);
  });

  afterAll(async () => {
    await Promise.all([
      ...Object.values(xmpp).map((c) => c.stop()),
      ...Object.values(irc).map((c) => c.quit()),
    ]);
    for (const app of apps.reverse()) await app.close();
    await releaseComponentDomain?.();
  });

  it('invites XMPP and IRC participants; the IRC invitation comes from a bot named after the conference', async () => {
    conference = await rpc.call(conferencesRpc.create, {
      ownerId,
      name: 'Cross net',
      subject: 'two networks',
    });
    const added = await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: conference.id,
      participants: [
        { network: 'xmpp', address: address('alice') },
        { network: 'xmpp', address: address('bob') },
        { network: 'irc', address: address('carol') },
      ],
    });
    expect(added.errors).toEqual([]);
    conference = await rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
    bot = {
      jid: `${conference.id}@${testEnv.xmpp().componentDomain}`,
      nick: botNick(conference.id, IRC_NICK_LENGTH),
    };
    const invitation = /^You are invited to the conference "Cross net" — two networks\. Reply \/join/;
    for (const who of ['alice', 'bob', 'carol'] as const) await botSays(who, invitation);
    const whois = await new Promise<Record<string, unknown>>((resolve) =>
      irc.carol.irc.whois(bot.nick, resolve),
    );
    expect(whois.real_name).toBe('Cross net (parley)');
  });

  it('joins everyone; an XMPP user invites an IRC user with /invite irc <nick>', async () => {
    await say('alice', '/join');
    await botSays('alice', /^You joined "Cross net"/);
    await say('carol', '/join');
    await botSays('carol', /^You joined "Cross net" \(1 other here\)/);
    await botSays('alice', `${label('carol')} joined.`);
    await say('bob', '/join');
    await botSays('carol', `${label('bob')} joined.`);

    await say('alice', `/invite irc ${address('dave')}`);
    await botSays('alice', `Invited ${label('dave')}.`);
    await botSays('carol', `${label('dave')} was invited by ${label('alice')}.`);
    await botSays(
      'dave',
      new RegExp(`^You are invited by ${escape(label('alice'))} to the conference "Cross net"`),
    );
    await say('dave', '/join');
    for (const who of ['alice', 'bob', 'carol'] as const) await botSays(who, `${label('dave')} joined.`);
  });

  it('answers /list with all four and their networks, on either network', async () => {
    await say('bob', '/list');
    const list = await botSays('bob', /^Participants of "Cross net" \(4\):/);
    // IRC without network accounts: whoever holds a nick speaks as it, so IRC participants are unverified.
    const listed = (who: Who) => (isXmpp(who) ? label(who) : `${irc[who].nick} (irc, unverified)`);
    for (const who of ['alice', 'carol', 'dave'] as const) expect(list).toContain(`${listed(who)}: joined`);
    expect(list).toContain(`${listed('bob')} — you: joined`);
    // On IRC the same answer arrives one line per participant.
    await say('dave', '/list');
    await botSays('dave', /^Participants of "Cross net" \(4\):/);
    for (const who of ['alice', 'bob', 'carol'] as const)
      await botSays('dave', new RegExp(`${escape(listed(who))}: joined`));
  });

  it('relays every message of each of the four exactly once to the three others, all in one order', async () => {
    const everyone: Who[] = ['alice', 'bob', 'carol', 'dave'];
    const sent = (who: Who, i: number) => `[${label(who)}] round ${who} ${i}`;
    for (let i = 1; i <= 3; i++) await Promise.all(everyone.map((who) => say(who, `round ${who} ${i}`)));
    const expected = (to: Who) =>
      everyone.filter((w) => w !== to).flatMap((w) => [1, 2, 3].map((i) => sent(w, i)));
    const orders = new Map<Who, string[]>();
    for (const to of everyone) {
      const order = await waitFor(
        `${to} to hear the 9 messages of the others`,
        () => {
          const got = heard(to).filter((m) => /\] round \w+ \d$/.test(m));
          return expected(to).every((m) => got.includes(m)) ? got : undefined;
        },
        20_000,
      );
      orders.set(to, order);
    }
    // A marker after the round proves no duplicate is still on its way.
    await say('alice', 'round over');
    for (const to of ['bob', 'carol', 'dave'] as const) await botSays(to, `[${label('alice')}] round over`);
    for (const to of everyone) {
      const got = heard(to).filter((m) => /\] round \w+ \d$/.test(m));
      expect(got.sort(), `what ${to} heard`).toEqual(expected(to).sort());
    }
    // One order: any two participants saw the messages they both got in the same relative order.
    for (const a of everyone) {
      for (const b of everyone) {
        const common = (list: string[]) =>
          list.filter((m) => orders.get(a)!.includes(m) && orders.get(b)!.includes(m));
        expect(common(orders.get(a)!), `${a} and ${b} agree on the order`).toEqual(common(orders.get(b)!));
      }
      // And each sender's messages in the order sent.
      for (const from of everyone.filter((w) => w !== a)) {
        expect(orders.get(a)!.filter((m) => m.startsWith(`[${label(from)}]`))).toEqual(
          [1, 2, 3].map((i) => sent(from, i)),
        );
      }
    }
  });

  it('splits a 1,000-character XMPP message (the relay limit) into IRC lines within 512 bytes, with no broken UTF-8', async () => {
    const raw: string[] = [];
    irc.carol.irc.on('raw', (event: { line: string; from_server: boolean }) => {
      // The line as received, without its line ending.
      if (event.from_server && event.line.includes(` PRIVMSG ${irc.carol.nick} :`))
        raw.push(event.line.replace(/\r?\n?$/, ''));
    });
    const words = ['naïve', 'café', '日本語のテキスト', '👍🏽', 'Ελληνικά', 'plain', 'ünïcödé'];
    let text = '';
    for (let i = 0; text.length < 1_000; i++) text += `${words[i % words.length]} `;
    text = text.slice(0, 1_000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(1_500);
    await say('alice', text);
    const relayed = `[${label('alice')}] ${text}`.replace(/\s/g, '');
    const lines = await waitFor(
      'the long message on IRC',
      () => {
        const start = heard('carol').findIndex((m) => m.startsWith(`[${label('alice')}] naïve`));
        if (start < 0) return undefined;
        const parts = heard('carol').slice(start);
        for (let n = 1; n <= parts.length; n++) {
          if (parts.slice(0, n).join('').replace(/\s/g, '') === relayed) return parts.slice(0, n);
        }
        return undefined;
      },
      15_000,
    );
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(line).not.toContain('\ufffd');
      expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
    }
    const marker = ` PRIVMSG ${irc.carol.nick} `;
    const textOf = (l: string) => l.slice(l.indexOf(marker) + marker.length).replace(/^:/, '');
    const onTheWire = raw.filter((l) => lines.includes(textOf(l)));
    expect(onTheWire, `raw lines seen: ${raw.map((l) => l.slice(0, 120)).join(' | ')}`).toHaveLength(
      lines.length,
    );
    for (const line of onTheWire) expect(Buffer.byteLength(`${line}\r\n`)).toBeLessThanOrEqual(512);
  });

  it('refuses a message over the limit whole: the sender is told, nobody gets a part of it', async () => {
    const before = heard('carol').length;
    await say('alice', `${'too long '.repeat(250)}end`);
    await botSays(
      'alice',
      'Too long: 2253 characters, the limit is 1000. Your message was not relayed; please split it.',
    );
    await say('alice', 'after the long one');
    await botSays('carol', `[${label('alice')}] after the long one`);
    expect(heard('carol').slice(before)).toEqual([`[${label('alice')}] after the long one`]);
  });

  it('after an IRC server restart, bots reconnect and the messages sent meanwhile arrive once', async () => {
    const adapter = ircGateway.get(GatewayRuntime).adapter;
    const restarted = run('bash', ['deploy/local/services.sh', 'restart-ngircd'], { cwd: process.cwd() });
    await waitFor(
      'the IRC bot to notice the server is gone',
      () => (adapter.isOnline ? undefined : true),
      15_000,
    );
    const whileAway = [1, 2, 3].map((i) => `while the IRC server was away ${i}`);
    for (const text of whileAway) await say('alice', text);
    await botSays('bob', `[${label('alice')}] ${whileAway[2]}`);
    await restarted;
    // The IRC users come back with the same nicks.
    for (const who of IRC) {
      const client = irc[who].irc;
      await new Promise<void>((resolve) => {
        client.once('registered', () => resolve());
        client.connect();
      });
    }
    for (const who of IRC) {
      for (const text of whileAway) await botSays(who, `[${label('alice')}] ${text}`, 60_000);
    }
    await waitFor('the IRC bot to be connected again', () => (adapter.isOnline ? true : undefined), 15_000);
    const ready = await fetch(`${await ircGateway.getUrl()}/health/ready`);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      checks: expect.arrayContaining([{ name: 'IrcBotsHealthIndicator', ok: true }]),
    });
    // The bot was re-registered under its nick: IRC users reach the conference again.
    await say('carol', 'back after the restart');
    for (const who of ['alice', 'bob', 'dave'] as const)
      await botSays(who, `[${label('carol')}] back after the restart`);
    for (const who of ['bob', 'carol', 'dave'] as const) {
      for (const text of whileAway) {
        expect(
          heard(who).filter((m) => m === `[${label('alice')}] ${text}`),
          `${who}: ${text}`,
        ).toHaveLength(1);
      }
    }
  });

  it('reports IRC presence (on, away, gone) to the presence stream', async () => {
    const bus = apps[0]!.get(JetStreamBus);
    const consumer = await bus.js.consumers.get(streams.presenceUpdates().name);
    const updates: PresenceUpdateV1[] = [];
    const seen = (who: (typeof IRC)[number], show: string) =>
      waitFor(
        `${who} ${show} on the presence stream`,
        async () => {
          const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
          for await (const m of batch) updates.push(presenceUpdateV1Schema.parse(m.json()));
          return updates.find((u) => u.network === 'irc' && u.address === irc[who].nick && u.show === show);
        },
        15_000,
      );
    await seen('carol', 'online');
    // AWAY: the server tells the bot when it next writes to carol.
    irc.carol.irc.raw('AWAY', 'out for lunch');
    await say('alice', 'are you there, carol?');
    await botSays('carol', `[${label('alice')}] are you there, carol?`);
    expect((await seen('carol', 'away')).status).toBe('out for lunch');
    await irc.dave.quit();
    await seen('dave', 'offline');
  });
});
