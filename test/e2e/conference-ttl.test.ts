/**
 * The conference time-to-live end to end: conference-core, gateway-xmpp and the presence service
 * started in-process against the real NATS, PostgreSQL and Prosody, with real @xmpp/client users.
 * A conference with no active participant for its ttl ends like a close (goodbye, the bot leaves
 * the contact list and goes offline, `conference-terminated` with reason `ttl-expired`); one with an
 * active participant does not; and the stored deadline fires after a restart of conference-core,
 * once, with two replicas running.
 *
 * The contract refuses a ttl under 60 s (owners never need less), so the tests shorten it to 3 s in
 * conference-core's own table once everyone has joined.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferenceEventV1Schema,
  conferencesRpc,
  streams,
  subjects,
  type ConferenceEventV1,
} from '@parley/contracts';
import {
  bare,
  createXmppUser,
  holdXmppComponentDomain,
  readStored,
  serviceTestEnv,
  testEnv,
  waitFor,
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
type Who = 'alice' | 'bob' | 'carol' | 'dave';
const TTL_SECONDS = 3;

describe('conference time-to-live over XMPP', () => {
  const ownerId = `owner-${randomBytes(4).toString('hex')}`;
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  const others: NestFastifyApplication[] = [];
  /** The running conference-core replicas (replaced by the restart test). */
  let cores: NestFastifyApplication[] = [];
  const users = {} as Record<Who, XmppTestUser>;
  const clients = {} as Record<Who, XmppTestClient>;

  const rpc = () => cores[0]!.get(RpcClient);
  const db = () => cores[0]!.get(DataSource);
  const botOf = (conferenceId: string) => `${conferenceId}@${componentDomain}`;

  const startCore = () => {
    const config = loadCoreConfig(serviceTestEnv('conference-core', { PARLEY_TTL_CHECK_MS: '200' }));
    return startTestService('conference-core', CoreModule.forRoot(config));
  };

  async function ask(who: Who, bot: string, body: string, match: RegExp): Promise<string> {
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

  /** An active conference of `who` (all joined) whose ttl is then cut to TTL_SECONDS. */
  async function conferenceWith(name: string, who: Who[]): Promise<string> {
    const { id } = await rpc().call(conferencesRpc.create, { ownerId, name });
    await rpc().call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: id,
      participants: who.map((w) => ({ network: 'xmpp', address: users[w].jid })),
    });
    await rpc().call(conferencesRpc.start, { ownerId, conferenceId: id });
    for (const w of who) {
      await clients[w].waitForMessage(botOf(id), /^You are invited/, 15_000);
      await ask(w, botOf(id), '/join', /^You joined/);
    }
    await db().query('UPDATE conference SET ttl_seconds = $2 WHERE id = $1', [id, TTL_SECONDS]);
    return id;
  }

  const stored = async (id: string) =>
    (
      (await db().query(
        'SELECT state, idle_deadline, terminated_at, terminated_reason FROM conference WHERE id = $1',
        [id],
      )) as Array<{
        state: string;
        idle_deadline: Date | null;
        terminated_at: Date | null;
        terminated_reason: string | null;
      }>
    )[0]!;

  /** The conference's events on CONF_EVENTS, in order. */
  const events = (id: string): Promise<ConferenceEventV1[]> =>
    readStored(cores[0]!.get(JetStreamBus), streams.confEvents().name, subjects.confEvents(id), (v) =>
      conferenceEventV1Schema.parse(v),
    );

  /** Waits for the goodbye of `who`, then checks the bot also revoked the subscription and went offline. */
  async function seesGoodbye(who: Who, id: string, name: string): Promise<void> {
    const bot = botOf(id);
    await clients[who].waitForMessage(bot, `The conference "${name}" has expired. Goodbye!`, 15_000);
    const from = (type: string) => (s: { is: (n: string) => boolean; attrs: Record<string, string> }) =>
      s.is('presence') && bare(s.attrs.from) === bot && s.attrs.type === type;
    await clients[who].waitForStanza('the bot dropping the subscription', from('unsubscribe'), 15_000);
    await clients[who].waitForStanza('the bot going offline', from('unavailable'), 15_000);
  }

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    cores = [await startCore()];
    const presenceConfig = loadPresenceConfig(serviceTestEnv('presence'));
    const presenceApp = await startTestService('presence', PresenceModule.forRoot(presenceConfig));
    const gatewayConfig = loadGatewayConfig(serviceTestEnv('gateway-xmpp'));
    const gateway = await startTestService('gateway-xmpp', GatewayModule.forRoot(gatewayConfig));
    others.push(gateway, presenceApp);
    for (const who of ['alice', 'bob', 'carol', 'dave'] as const) {
      users[who] = await createXmppUser(who);
      clients[who] = await XmppTestClient.connect(users[who], { autoAcceptSubscriptions: true });
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c.stop()));
    for (const app of cores) await app.close();
    for (const app of others) await app.close();
    await releaseComponentDomain?.();
  });

  it('ends a conference ttl seconds after its last active participant left, and not one with an active participant', async () => {
    const kept = await conferenceWith('Still here', ['carol']);
    const ending = await conferenceWith('Short lived', ['alice', 'bob']);
    await ask('alice', botOf(ending), '/exit', /^You left/);
    // One active participant left: no clock yet.
    expect((await stored(ending)).idle_deadline).toBeNull();
    await ask('bob', botOf(ending), '/exit', /^You left/);
    const running = await stored(ending);
    expect(running.state).toBe('active');
    expect(running.idle_deadline).not.toBeNull();

    await seesGoodbye('alice', ending, 'Short lived');
    await seesGoodbye('bob', ending, 'Short lived');
    const ended = await stored(ending);
    expect(ended).toMatchObject({ state: 'terminated', terminated_reason: 'ttl-expired' });
    expect(ended.terminated_at!.getTime()).toBeGreaterThanOrEqual(running.idle_deadline!.getTime());
    const terminated = (await events(ending)).filter((e) => e.type === 'conference-terminated');
    expect(terminated).toEqual([expect.objectContaining({ reason: 'ttl-expired' })]);

    // Carol has been active in "Still here" for longer than its ttl by now.
    expect(await stored(kept)).toMatchObject({ state: 'active', idle_deadline: null });
    expect(clients.carol.messagesFrom(botOf(kept)).filter((m) => /has expired/.test(m))).toEqual([]);
    const answer = await ask('carol', botOf(kept), '/list', /^Participants of/);
    expect(answer).toContain('— you: joined');
  });

  it('still ends a conference on time when conference-core restarts between the last leave and the deadline, once with two replicas', async () => {
    const id = await conferenceWith('Restarted', ['dave']);
    await ask('dave', botOf(id), '/exit', /^You left/);
    const before = await stored(id);
    expect(before.idle_deadline).not.toBeNull();
    await cores[0]!.close();
    cores = [];
    // Two replicas come back on the same schema and bus prefix: the deadline is in the table.
    cores = await Promise.all([startCore(), startCore()]);
    await seesGoodbye('dave', id, 'Restarted');
    const after = await stored(id);
    expect(after).toMatchObject({ state: 'terminated', terminated_reason: 'ttl-expired' });
    expect(after.terminated_at!.getTime()).toBeGreaterThanOrEqual(before.idle_deadline!.getTime());
    const terminated = (await events(id)).filter((e) => e.type === 'conference-terminated');
    expect(terminated).toHaveLength(1);
    // A later tick of either replica sends nothing more.
    await ask('dave', botOf(id), '/list', /has ended/);
    expect(clients.dave.messagesFrom(botOf(id)).filter((m) => /has expired/.test(m))).toHaveLength(1);
  });
});
