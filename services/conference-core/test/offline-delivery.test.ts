/**
 * Offline delivery at the service level: conference-core against the real NATS and PostgreSQL. An
 * IRC participant is simulated by publishing their presence changes (as the presence service would)
 * and their messages to IM_INBOUND; what they receive is read from IM_OUTBOUND (`im.out.irc`).
 * The cap is 3 here so that dropping the oldest shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferencesRpc,
  deliveryFor,
  imDeliveryV2Schema,
  newEnvelope,
  streams,
  subjects,
  type AggregatePresence,
  type ImDeliveryV1,
  type Network,
} from '@parley/contracts';
import {
  publishInboundMessage,
  readStored,
  serviceTestEnv,
  waitFor,
  startTestService,
} from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';
import { PruningScheduler } from '../src/pruning/pruning.scheduler.js';

describe('offline delivery for networks without offline storage', () => {
  const ownerId = 'owner-offline';
  const alice = 'alice@example.org';
  const dave = 'dave@irc.localhost';
  let core: NestFastifyApplication;
  let conferenceId: string;
  let clock = Date.now();

  const bus = () => core.get(JetStreamBus);
  const db = () => core.get(DataSource);

  /** Every delivery on a network's IM_OUTBOUND subject so far, in stream order. */
  async function deliveries(network: Network): Promise<ImDeliveryV1[]> {
    const fanOuts = await readStored(
      bus(),
      streams.imOutbound().name,
      subjects.imOutboundNetwork(network),
      (v) => imDeliveryV2Schema.parse(v),
    );
    return fanOuts.flatMap((fanOut) => fanOut.recipients.map((r) => deliveryFor(fanOut, r)));
  }
  const bodiesTo = async (network: Network, to: string) =>
    (await deliveries(network)).filter((d) => d.to === to && d.kind === 'message').map((d) => d.body!);

  const say = (network: Network, from: string, body: string) =>
    publishInboundMessage(bus(), { network, conferenceId, from, body });

  /** Publishes a presence change as the presence service does; `at` defaults to "later than the last". */
  async function presence(network: Network, address: string, value: AggregatePresence, at?: Date) {
    clock += 1_000;
    const event = { ...newEnvelope(at ?? new Date(clock)), network, address, presence: value };
    await bus().publish(streams.presenceChanges(), subjects.presenceChanged(network), event);
    return event;
  }
  const viewOf = async (network: Network, address: string) =>
    (
      (await db().query('SELECT presence FROM identity_presence WHERE network = $1 AND address = $2', [
        network,
        address,
      ])) as Array<{ presence: string }>
    )[0]?.presence;
  const queued = async () =>
    (
      (await db().query('SELECT count(*)::int AS n FROM offline_queue WHERE address = $1', [dave])) as Array<{
        n: number;
      }>
    )[0]!.n;

  beforeAll(async () => {
    const config = loadServiceConfig(
      serviceTestEnv('conference-core', {
        PARLEY_OFFLINE_QUEUE_NETWORKS: 'irc',
        PARLEY_OFFLINE_QUEUE_CAP: '3',
        // Queueing for IRC needs an IRC network with accounts (a nick alone proves nobody).
        PARLEY_IRC_IDENTITY: 'account',
      }),
    );
    core = await startTestService('conference-core', AppModule.forRoot(config));
    const rpc = core.get(RpcClient);
    conferenceId = (await rpc.call(conferencesRpc.create, { ownerId, name: 'Offline test' })).id;
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [
        { network: 'xmpp', address: alice },
        { network: 'irc', address: dave },
      ],
    });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId });
    await say('xmpp', alice, '/join');
    await say('irc', dave, '/join');
    await waitFor('dave to have joined', async () =>
      (await bodiesTo('irc', dave)).some((b) => b.startsWith('You joined')),
    );
  });

  afterAll(async () => {
    await core?.close();
  });

  it('keeps messages for an offline IRC participant, capped (oldest dropped), and delivers them in order with a note when back', async () => {
    await presence('irc', dave, 'offline');
    await waitFor('conference-core to see dave offline', async () =>
      (await viewOf('irc', dave)) === 'offline' ? true : undefined,
    );
    const before = (await bodiesTo('irc', dave)).length;
    for (let i = 1; i <= 5; i++) await say('xmpp', alice, `while away ${i}`);
    await say('xmpp', alice, 'marker');
    // The marker is queued after the five: once the queue holds the last three, all were decided.
    await waitFor('the queue to hold the last 3', async () => {
      const rows = (await db().query(
        "SELECT payload->>'body' AS body FROM offline_queue WHERE address = $1 ORDER BY id",
        [dave],
      )) as Array<{ body: string }>;
      return rows.map((r) => r.body).join('|') ===
        '[alice (xmpp)] while away 4|[alice (xmpp)] while away 5|[alice (xmpp)] marker'
        ? true
        : undefined;
    });
    expect((await bodiesTo('irc', dave)).length).toBe(before);

    await presence('irc', dave, 'online');
    const expected = [
      'While you were away, 3 older messages were dropped (only the last 3 are kept). Here are the rest:',
      '[alice (xmpp)] while away 4',
      '[alice (xmpp)] while away 5',
      '[alice (xmpp)] marker',
    ];
    await waitFor('dave to get the queued messages', async () =>
      (await bodiesTo('irc', dave)).length >= before + expected.length ? true : undefined,
    );
    expect((await bodiesTo('irc', dave)).slice(before)).toEqual(expected);
    expect(await queued()).toBe(0);
  });

  it('ignores a presence change older than the one it holds, and delivers directly while online', async () => {
    const online = await presence('irc', dave, 'online');
    await presence('irc', dave, 'offline', new Date(Date.parse(online.occurredAt) - 60_000));
    // A later change of another identity, handled after the stale one, tells us it was processed.
    await presence('irc', 'witness@irc.localhost', 'online');
    await waitFor('the witness change', async () =>
      (await viewOf('irc', 'witness@irc.localhost')) ? true : undefined,
    );
    expect(await viewOf('irc', dave)).toBe('online');
    await say('xmpp', alice, 'direct');
    await waitFor('dave to get it directly', async () =>
      (await bodiesTo('irc', dave)).includes('[alice (xmpp)] direct') ? true : undefined,
    );
    expect(await queued()).toBe(0);
  });

  it('does not queue for XMPP, whose server stores messages for offline users', async () => {
    await presence('xmpp', alice, 'offline');
    await waitFor('alice offline', async () =>
      (await viewOf('xmpp', alice)) === 'offline' ? true : undefined,
    );
    await say('irc', dave, 'to an offline xmpp user');
    await waitFor('alice to get it at once', async () =>
      (await bodiesTo('xmpp', alice)).includes('[dave (irc)] to an offline xmpp user') ? true : undefined,
    );
    const rows = (await db().query('SELECT count(*)::int AS n FROM offline_queue')) as Array<{ n: number }>;
    expect(rows[0]!.n).toBe(0);
  });
  it('starts the time-to-live clock when the last active participant goes offline, and stops it when one is back', async () => {
    const deadline = async () =>
      (
        (await db().query('SELECT idle_deadline FROM conference WHERE id = $1', [conferenceId])) as Array<{
          idle_deadline: Date | null;
        }>
      )[0]!.idle_deadline;
    // Alice is offline (previous test), dave online: dave keeps the conference alive.
    expect(await deadline()).toBeNull();
    await presence('irc', dave, 'away');
    await presence('irc', dave, 'offline');
    const started = await waitFor('the clock to start', async () => (await deadline()) ?? undefined);
    await presence('irc', dave, 'away');
    await waitFor('the clock to stop', async () => ((await deadline()) === null ? true : undefined));
    expect(started.getTime()).toBeGreaterThan(Date.now());
  });
  it('forgets the backlog of a participant removed while offline, and the presence view of identities in no conference', async () => {
    await presence('irc', dave, 'offline');
    await waitFor('conference-core to see dave offline', async () =>
      (await viewOf('irc', dave)) === 'offline' ? true : undefined,
    );
    await say('xmpp', alice, 'before dave is removed');
    await waitFor('the message to be queued for dave', async () => ((await queued()) > 0 ? true : undefined));
    const rpc = core.get(RpcClient);
    const { participants } = await rpc.call(conferencesRpc.listParticipants, { ownerId, conferenceId });
    const daveId = participants.find((p) => p.address === dave)!.id;
    await rpc.call(conferencesRpc.removeParticipant, { ownerId, conferenceId, participantId: daveId });

    const pruner = core.get(PruningScheduler);
    await pruner.prune();
    expect(await queued()).toBe(0);
    // Recent presence views stay (a change of the last day may still come), in a conference or not.
    expect(await viewOf('irc', dave)).toBe('offline');
    expect(await viewOf('irc', 'witness@irc.localhost')).toBe('online');

    // Back online, dave gets nothing of the conference he was removed from.
    const before = (await bodiesTo('irc', dave)).length;
    await presence('irc', dave, 'online');
    await waitFor('conference-core to see dave online', async () =>
      (await viewOf('irc', dave)) === 'online' ? true : undefined,
    );
    const lastSeq = async () =>
      Number(
        (
          (await db().query('SELECT last_seq FROM conference WHERE id = $1', [conferenceId])) as Array<{
            last_seq: string;
          }>
        )[0]!.last_seq,
      );
    const seqBefore = await lastSeq();
    await say('xmpp', alice, 'after dave is removed');
    await waitFor('alice’s message to be accepted', async () =>
      (await lastSeq()) > seqBefore ? true : undefined,
    );
    expect((await bodiesTo('irc', dave)).slice(before)).not.toContain(
      '[alice (xmpp)] before dave is removed',
    );

    // Three days on: the views of dave and the witness (in no active conference) go; alice's stays.
    await pruner.prune(Date.now() + 3 * 24 * 3_600_000);
    expect(await viewOf('irc', dave)).toBeUndefined();
    expect(await viewOf('irc', 'witness@irc.localhost')).toBeUndefined();
    expect(await viewOf('xmpp', alice)).toBe('offline');
  });
});

describe('offline delivery on an IRC network without accounts', () => {
  it('keeps no backlog for an IRC nick: whoever takes the nick later gets nothing of it', async () => {
    const config = loadServiceConfig(serviceTestEnv('conference-core', { PARLEY_IRC_IDENTITY: 'nick' }));
    const core = await startTestService('conference-core', AppModule.forRoot(config));
    try {
      const rpc = core.get(RpcClient);
      const bus = core.get(JetStreamBus);
      const ownerId = 'owner-nick-only';
      const { id } = await rpc.call(conferencesRpc.create, { ownerId, name: 'Nick only' });
      await rpc.call(conferencesRpc.addParticipants, {
        ownerId,
        conferenceId: id,
        participants: [
          { network: 'xmpp', address: 'ann@example.org' },
          { network: 'irc', address: 'dave' },
        ],
      });
      await rpc.call(conferencesRpc.start, { ownerId, conferenceId: id });
      const inbound = (network: Network, from: string, body: string) =>
        publishInboundMessage(bus, { network, conferenceId: id, from, body });
      const presence = (show: 'offline' | 'online') =>
        bus.publish(streams.presenceChanges(), subjects.presenceChanged('irc'), {
          ...newEnvelope(),
          network: 'irc',
          address: 'dave',
          presence: show,
        });
      await inbound('xmpp', 'ann@example.org', '/join');
      await inbound('irc', 'dave', '/join');
      await presence('offline');
      await waitFor('conference-core to know dave is offline', async () =>
        (
          await core
            .get(DataSource)
            .query(
              `SELECT 1 FROM identity_presence WHERE network = 'irc' AND address = 'dave' AND presence = 'offline'`,
            )
        ).length > 0
          ? true
          : null,
      );
      await inbound('xmpp', 'ann@example.org', 'while dave is away');
      const participants = await rpc.call(conferencesRpc.listParticipants, { ownerId, conferenceId: id });
      expect(participants.participants.find((p) => p.network === 'irc')?.verified).toBe(false);
      expect(participants.participants.find((p) => p.network === 'xmpp')?.verified).toBe(true);
      await waitFor('the message to be accepted', async () =>
        (await core.get(DataSource).query(`SELECT 1 FROM conference WHERE id = $1 AND last_seq >= 6`, [id]))
          .length > 0
          ? true
          : null,
      );
      const [{ n }] = (await core
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM offline_queue WHERE conference_id = $1', [id])) as [
        { n: number },
      ];
      expect(n, 'nothing queued for an IRC nick').toBe(0);
    } finally {
      await core.close();
    }
  });
});
