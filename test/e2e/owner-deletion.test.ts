/**
 * Issue 13, owner deletion end to end: an owner with a running conference (a real @xmpp/client
 * participant on the real Prosody, an irc-framework one on ngircd), an archived conversation and a
 * draft deletes their account over REST. The bots say goodbye on both networks, every REST path of
 * the owner answers 404 even with their unexpired token, and the archive of their conferences is
 * deleted — while another owner's conference and archive are untouched. accounts, api-gateway,
 * conference-core, archive, gateway-xmpp and gateway-irc run in-process on the real NATS and
 * PostgreSQL.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  bare,
  createXmppUser,
  holdXmppComponentDomain,
  IrcTestClient,
  serviceTestEnv,
  startTestService,
  testEnv,
  testSchema,
  waitFor,
  XmppTestClient,
  type XmppTestUser,
} from '@parley/testing';
import { AppModule as XmppGatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppGatewayConfig } from '../../services/gateway-xmpp/src/config.js';
import { AppModule as IrcGatewayModule } from '../../services/gateway-irc/src/app.module.js';
import { loadServiceConfig as loadIrcGatewayConfig } from '../../services/gateway-irc/src/config.js';
import { botNick } from '../../services/gateway-irc/src/irc/bot-nick.js';
import {
  createOwner,
  expectStatus,
  startStack,
  type Stack,
  type TestOwner,
} from '../../services/api-gateway/test/support/stack.js';

/** This file's component domain: set once one is held (holdXmppComponentDomain). */
let componentDomain = testEnv.xmpp().componentDomain;
const IRC_NICK_LENGTH = 30; // deploy/ngircd/ngircd.test.conf.in: MaxNickLength

describe('deleting an owner', () => {
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  let stack: Stack;
  let xmppGateway: NestFastifyApplication;
  let ircGateway: NestFastifyApplication;
  let ircParticipant: IrcTestClient;
  let db: pg.Client;
  let owner: TestOwner;
  let other: TestOwner;
  let participant: XmppTestUser;
  let client: XmppTestClient;
  let running: string;
  let draft: string;
  let othersConference: string;

  const api = (who: TestOwner, method: string, path: string, body?: unknown) =>
    stack.request(method, `/api/v1${path}`, { token: who.token, ...(body === undefined ? {} : { body }) });
  const archived = async (conferenceId: string): Promise<number> => {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${testSchema('archive')}".archive_event WHERE conference_id = $1`,
      [conferenceId],
    );
    return rows[0]!.n;
  };

  /**
   * A started conference of `who` with the XMPP participant (and, if asked, the IRC one) joined and
   * one message relayed and archived.
   */
  async function runningConference(who: TestOwner, name: string, withIrc = false): Promise<string> {
    const id: string = expectStatus(
      await api(who, 'POST', '/conferences', { name, subject: 'Deletion' }),
      201,
    ).id;
    expectStatus(
      await api(who, 'POST', `/conferences/${id}/participants`, {
        participants: [
          { network: 'xmpp', address: participant.jid },
          ...(withIrc ? [{ network: 'irc', address: ircParticipant.nick }] : []),
        ],
      }),
      201,
    );
    expectStatus(await api(who, 'POST', `/conferences/${id}/start`), 200);
    const bot = `${id}@${componentDomain}`;
    await client.waitForMessage(bot, /You are invited/, 15_000);
    await client.sendMessage(bot, '/join');
    await client.waitForMessage(bot, new RegExp(`You joined "${name}"`), 15_000);
    if (withIrc) {
      const nick = botNick(id, IRC_NICK_LENGTH);
      await ircParticipant.waitForMessage(nick, /You are invited/, 15_000);
      ircParticipant.say(nick, '/join');
      await ircParticipant.waitForMessage(nick, new RegExp(`You joined "${name}"`), 15_000);
    }
    await client.sendMessage(bot, `a message in ${name}`);
    await waitFor(`the message of ${name} in the archive`, async () =>
      (await archived(id)) >= 2 ? true : undefined,
    );
    return id;
  }

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    stack = await startStack({ archive: true });
    xmppGateway = await startTestService(
      'gateway-xmpp',
      XmppGatewayModule.forRoot(loadXmppGatewayConfig(serviceTestEnv('gateway-xmpp'))),
    );
    ircGateway = await startTestService(
      'gateway-irc',
      IrcGatewayModule.forRoot(
        loadIrcGatewayConfig(
          serviceTestEnv('gateway-irc', { PARLEY_IRC_NICK_LENGTH: String(IRC_NICK_LENGTH) }),
        ),
      ),
    );
    db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();
    participant = await createXmppUser('leaver');
    client = await XmppTestClient.connect(participant, { autoAcceptSubscriptions: true });
    ircParticipant = await IrcTestClient.connect('ircleaver');
    owner = await createOwner(stack, 'deleted');
    other = await createOwner(stack, 'staying');
    running = await runningConference(owner, 'Going away', true);
    othersConference = await runningConference(other, 'Staying on');
    draft = expectStatus(await api(owner, 'POST', '/conferences', { name: 'Never started' }), 201).id;
  }, 300_000);

  afterAll(async () => {
    await client?.stop();
    await ircParticipant?.quit();
    await db?.end();
    await ircGateway?.close();
    await xmppGateway?.close();
    await stack?.close();
    await releaseComponentDomain?.();
  });

  it('closes the conferences: the bots say goodbye on XMPP and IRC, and the XMPP bot drops its subscription', async () => {
    const bot = `${running}@${componentDomain}`;
    const goodbye = 'The conference "Going away" was closed by its owner. Goodbye!';
    expectStatus(await api(owner, 'DELETE', '/me'), 204);
    await client.waitForMessage(bot, goodbye, 15_000);
    await ircParticipant.waitForMessage(botNick(running, IRC_NICK_LENGTH), goodbye, 15_000);
    await client.waitForStanza(
      'the bot’s unsubscribe',
      (s) => s.is('presence') && bare(s.attrs.from) === bot && s.attrs.type === 'unsubscribe',
      15_000,
    );
    // The other owner's conference still relays.
    const otherBot = `${othersConference}@${componentDomain}`;
    await client.sendMessage(otherBot, '/list');
    await client.waitForMessage(otherBot, new RegExp(participant.username), 15_000);
    expect(
      client.messagesFrom(otherBot).filter((m) => m.includes('Goodbye')),
      'no goodbye from the other owner’s bot',
    ).toEqual([]);
  });

  it('answers 404 to every REST path of the deleted owner, even with the unexpired token', async () => {
    const answers = [
      await api(owner, 'GET', '/me'),
      await api(owner, 'GET', '/conferences'),
      await api(owner, 'GET', `/conferences/${running}`),
      await api(owner, 'GET', `/conferences/${draft}`),
      await api(owner, 'GET', `/conferences/${running}/participants`),
      await api(owner, 'GET', `/conferences/${running}/history`),
      await api(owner, 'POST', '/conferences', { name: 'After deletion' }),
      await api(owner, 'GET', '/im-accounts'),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body.type).toBe('urn:parley:problem:not-found');
    }
    expect(
      (
        await stack.request('POST', '/api/v1/auth/login', {
          body: { email: owner.email, password: owner.password },
        })
      ).status,
    ).toBe(401);
    // The other owner is untouched.
    expect(expectStatus(await api(other, 'GET', `/conferences/${othersConference}`), 200).state).toBe(
      'active',
    );
  });

  it('deletes the archive of the owner’s conferences, and keeps it deleted', async () => {
    await waitFor('the deleted owner’s archive to be gone', async () =>
      (await archived(running)) === 0 ? true : undefined,
    );
    // The conference's own goodbye events arrived or arrive after the deletion: they are not kept.
    const { rows } = await db.query<{ conference_id: string }>(
      `SELECT conference_id FROM "${testSchema('archive')}".forgotten_conference WHERE conference_id = ANY($1)`,
      [[running, draft]],
    );
    expect(rows.map((r) => r.conference_id).sort()).toEqual([running, draft].sort());
    expect(await archived(running)).toBe(0);
    // The other owner's history is all there, over REST too.
    expect(await archived(othersConference)).toBeGreaterThanOrEqual(2);
    const history = expectStatus(await api(other, 'GET', `/conferences/${othersConference}/history`), 200);
    expect(JSON.stringify(history)).toContain('a message in Staying on');
  });
});
