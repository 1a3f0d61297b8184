/**
 * Chaos: conference-core killed with SIGKILL while it relays a conversation, then restarted.
 * The product promises that a crash of any service loses no accepted message and delivers none
 * twice; this file checks it for the relay itself. The built service runs as its own process (as
 * in production); the test plays the XMPP gateway without Prosody: it publishes inbound events to
 * IM_INBOUND and reads every delivery from IM_OUTBOUND and every fact from CONF_EVENTS.
 *
 * JetStream drops a republish only inside its 2-minute duplicate window (Nats-Msg-Id), so the
 * test never assumes duplicates away: it reads every stored delivery and counts them by body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferenceEventV1Schema,
  conferencesRpc,
  consumers,
  imDeliveryV1Schema,
  newEnvelope,
  streams,
  subjects,
  type ConferenceEventV1,
  type ImDeliveryV1,
} from '@parley/contracts';
import { spawnServiceReady, testEnv, testSchema, waitFor, type ServiceProcess } from '@parley/testing';

const ownerId = 'chaos-owner';
const alice = 'alice@chaos.example';
const bob = 'bob@chaos.example';
/** A third participant who only listens: the one who sees both senders interleaved. */
const carol = 'carol@chaos.example';
const PER_SENDER = 150;
/** Kill once this many chat deliveries were seen: mid-conversation, far from both ends. */
const KILL_AFTER_DELIVERIES = 50;

/** Reads one stream subject from its first message on, for as long as the test runs. */
async function follow<T>(
  bus: JetStreamBus,
  stream: string,
  subject: string,
  parse: (value: unknown) => T,
): Promise<{ seen: T[]; stop: () => Promise<void> }> {
  const consumer = await bus.js.consumers.get(stream, { filter_subjects: subject });
  const messages: ConsumerMessages = await consumer.consume();
  const seen: T[] = [];
  const loop = (async () => {
    for await (const m of messages) seen.push(parse(m.json()));
  })();
  return {
    seen,
    stop: async () => {
      await messages.close();
      await loop;
    },
  };
}

/** The chat text of a relayed message (`[alice (xmpp)] text` → `text`), or null for notices. */
function chatText(delivery: ImDeliveryV1): string | null {
  if (delivery.kind !== 'message' || !delivery.body?.startsWith('[')) return null;
  const text = delivery.body.slice(delivery.body.indexOf('] ') + 2);
  return text.startsWith('chaos ') ? text : null;
}

describe('conference-core killed with SIGKILL mid-conversation', () => {
  let rpc: RpcClient;
  let bus: JetStreamBus;
  let db: pg.Client;
  const children: ServiceProcess[] = [];
  const followers: Array<{ stop: () => Promise<void> }> = [];

  async function startAndWaitReady() {
    const started = await spawnServiceReady('conference-core', rpc);
    children.push(started);
    return started;
  }

  beforeAll(async () => {
    rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'chaos-test' });
    await bus.ensureStreams();
    db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();
  });

  afterAll(async () => {
    for (const { child, exited } of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    }
    for (const follower of followers) await follower.stop();
    await bus?.close();
    await rpc?.close();
    await db?.end();
  });

  it('relays every message to every other participant exactly once, in one order, across a kill -9', async () => {
    const first = await startAndWaitReady();

    const conference = await rpc.call(conferencesRpc.create, { ownerId, name: 'Chaos relay' });
    const conferenceId = conference.id;
    await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId,
      participants: [alice, bob, carol].map((address) => ({ network: 'xmpp', address })),
    });
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId });

    const deliveries = await follow(bus, streams.imOutbound().name, subjects.imOutbound('xmpp'), (v) =>
      imDeliveryV1Schema.parse(v),
    );
    followers.push(deliveries);
    const events = await follow(bus, streams.confEvents().name, subjects.confEvents(conferenceId), (v) =>
      conferenceEventV1Schema.parse(v),
    );
    followers.push(events);

    const publishInbound = (from: string, body: string) =>
      bus.publish(streams.imInbound(), subjects.imInbound('xmpp', conferenceId), {
        ...newEnvelope(),
        kind: 'message',
        network: 'xmpp',
        conferenceId,
        from,
        body,
      });
    for (const who of [alice, bob, carol]) await publishInbound(who, '/join');
    await waitFor('all three participants to have joined', () =>
      events.seen.filter((e) => e.type === 'participant-joined').length === 3 ? true : null,
    );

    // Two senders at once, each in its own order; the kill happens while the relay is busy.
    const sent: Record<string, string[]> = {
      [alice]: Array.from({ length: PER_SENDER }, (_, i) => `chaos alice ${i + 1}`),
      [bob]: Array.from({ length: PER_SENDER }, (_, i) => `chaos bob ${i + 1}`),
    };
    const sending = Promise.all(
      [alice, bob].map(async (from) => {
        for (const body of sent[from]!) await publishInbound(from, body);
      }),
    );
    const chatDeliveries = () => deliveries.seen.filter((d) => chatText(d) !== null);
    await waitFor(
      `${KILL_AFTER_DELIVERIES} chat deliveries before the kill`,
      () => chatDeliveries().length >= KILL_AFTER_DELIVERIES,
      20_000,
      5,
    );
    first.child.kill('SIGKILL');
    await first.exited();
    expect(first.child.signalCode).toBe('SIGKILL');
    const deliveredAtKill = chatDeliveries().length;
    await sending;
    // The kill must really have interrupted the conversation: 600 deliveries are due in all.
    expect(deliveredAtKill).toBeLessThan(2 * 2 * PER_SENDER);

    await startAndWaitReady();
    // The message in hand at the kill comes back after the inbound consumer's ack_wait (30 s).
    await waitFor(
      'carol to have received the last message of both senders',
      () => {
        const texts = new Set(deliveries.seen.filter((d) => d.to === carol).map(chatText));
        return texts.has(`chaos alice ${PER_SENDER}`) && texts.has(`chaos bob ${PER_SENDER}`);
      },
      45_000,
      50,
    );
    // Quiet: nothing left to consume, nothing in hand, nothing left in the outbox, and everything
    // IM_OUTBOUND and CONF_EVENTS hold has been read. Only then can duplicates be counted.
    await waitFor('conference-core to have consumed and acked every inbound event', async () => {
      const info = await bus.jsm.consumers.info(streams.imInbound().name, consumers.conferenceCoreInbound);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    await waitFor('the outbox to be fully relayed', async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${testSchema('conference-core')}".outbox WHERE sent_at IS NULL`,
      );
      return rows[0]!.n === 0;
    });
    const stored = async (stream: string, subject: string) =>
      (await bus.jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
    const storedDeliveries = await stored(streams.imOutbound().name, subjects.imOutbound('xmpp'));
    const storedEvents = await stored(streams.confEvents().name, subjects.confEvents(conferenceId));
    await waitFor(`all ${storedDeliveries} stored deliveries and ${storedEvents} events to be read`, () =>
      deliveries.seen.length === storedDeliveries && events.seen.length === storedEvents ? true : null,
    );

    // CONF_EVENTS: one event per seq, no gap; every chat message accepted exactly once.
    const seqs = events.seen.map((e) => e.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const accepted = events.seen
      .filter(
        (e): e is Extract<ConferenceEventV1, { type: 'message-accepted' }> => e.type === 'message-accepted',
      )
      .sort((a, b) => a.seq - b.seq);
    const acceptedOrder = accepted.map((e) => e.body);
    expect([...acceptedOrder].sort()).toEqual([...sent[alice]!, ...sent[bob]!].sort());
    // Each sender's messages were accepted in the order sent.
    for (const from of [alice, bob]) {
      expect(accepted.filter((e) => e.sender.address === from).map((e) => e.body)).toEqual(sent[from]);
    }

    // IM_OUTBOUND: each recipient got each message of the others once, in the accepted order.
    const deliveryIds = deliveries.seen.map((d) => d.deliveryId);
    expect(new Set(deliveryIds).size).toBe(deliveryIds.length);
    for (const to of [alice, bob, carol]) {
      const received = deliveries.seen
        .filter((d) => d.to === to)
        .map(chatText)
        .filter((t) => t !== null);
      const due = accepted.filter((e) => e.sender.address !== to).map((e) => e.body);
      expect(received, `what ${to} received`).toEqual(due);
    }
  }, 90_000);
});
