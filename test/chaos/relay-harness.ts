/**
 * What the conference-core chaos tests share: they play the XMPP gateway without Prosody (inbound
 * events published to IM_INBOUND, every delivery read back from IM_OUTBOUND and every fact from
 * CONF_EVENTS) and check a conversation against the promise — every accepted message delivered to
 * every other participant exactly once, in the conference's accepted order, each sender's messages
 * accepted in the order sent, and a gap-free seq.
 */
import type { ConsumerMessages } from '@nats-io/jetstream';
import pg from 'pg';
import { expect } from 'vitest';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  conferenceEventV1Schema,
  conferencesRpc,
  consumers,
  deliveryFor,
  inboundPartition,
  imDeliveryV2Schema,
  streams,
  subjects,
  type ConferenceEventV1,
  type ImDeliveryV1,
  type ImDeliveryV2,
} from '@parley/contracts';
import {
  publishInboundMessage,
  storedCount,
  testEnv,
  testSchema,
  waitFor,
  type ServiceProcess,
} from '@parley/testing';

export interface Followed<T> {
  seen: T[];
  stop: () => Promise<void>;
}

/** Reads every message of `subject` from the start, as it comes. */
export async function follow<T>(
  bus: JetStreamBus,
  stream: string,
  subject: string,
  parse: (value: unknown) => T,
): Promise<Followed<T>> {
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

/** The chat text of a relayed message body (`[alice (xmpp)] chaos …` → `chaos …`), or null for notices. */
export function chatOfBody(body: string | undefined): string | null {
  if (!body?.startsWith('[')) return null;
  const text = body.slice(body.indexOf('] ') + 2);
  return text.startsWith('chaos ') ? text : null;
}

/** The chat text of a relayed message (a delivery or a whole fan-out), or null for notices. */
export function chatText(delivery: Pick<ImDeliveryV1, 'kind' | 'body'>): string | null {
  return delivery.kind === 'message' ? chatOfBody(delivery.body) : null;
}

/** A started conference of XMPP participants, followed on both output streams. */
export interface ChaosConference {
  conferenceId: string;
  participants: string[];
  deliveries: Followed<ImDeliveryV2>;
  events: Followed<ConferenceEventV1>;
  /** Each recipient's delivery, as the gateway expands the fan-outs. */
  perRecipient: () => ImDeliveryV1[];
  publishInbound: (from: string, body: string) => Promise<unknown>;
}

/**
 * Starts a conference of these XMPP participants and has them join: a new one named `nameOrId`,
 * or the draft whose id it is (`draftId: true`).
 */
export async function startChaosConference(
  rpc: RpcClient,
  bus: JetStreamBus,
  ownerId: string,
  nameOrId: string,
  participants: string[],
  draftId = false,
): Promise<ChaosConference> {
  const conferenceId = draftId
    ? nameOrId
    : (await rpc.call(conferencesRpc.create, { ownerId, name: nameOrId })).id;
  await rpc.call(conferencesRpc.addParticipants, {
    ownerId,
    conferenceId,
    participants: participants.map((address) => ({ network: 'xmpp', address })),
  });
  await rpc.call(conferencesRpc.start, { ownerId, conferenceId });
  const deliveries = await follow(
    bus,
    streams.imOutbound().name,
    subjects.imOutbound('xmpp', conferenceId),
    (v) => imDeliveryV2Schema.parse(v),
  );
  const events = await follow(bus, streams.confEvents().name, subjects.confEvents(conferenceId), (v) =>
    conferenceEventV1Schema.parse(v),
  );
  const publishInbound = (from: string, body: string) =>
    publishInboundMessage(bus, { network: 'xmpp', conferenceId, from, body });
  const perRecipient = () =>
    deliveries.seen
      .filter((f) => f.conferenceId === conferenceId)
      .flatMap((f) => f.recipients.map((r) => deliveryFor(f, r)));
  for (const who of participants) await publishInbound(who, '/join');
  await waitFor(`all ${participants.length} participants of ${conferenceId} to have joined`, () =>
    events.seen.filter((e) => e.type === 'participant-joined').length === participants.length ? true : null,
  );
  return { conferenceId, participants, deliveries, events, perRecipient, publishInbound };
}

/**
 * Checks one conference after the traffic settled: the events have a gap-free seq, every message
 * was accepted once and in each sender's order, and every other participant received each exactly
 * once, in the accepted order.
 */
export function expectRelayedExactlyOnceInOrder(
  conference: ChaosConference,
  sent: Record<string, string[]>,
): void {
  const { events, participants, perRecipient, conferenceId } = conference;
  const seqs = events.seen.map((e) => e.seq).sort((a, b) => a - b);
  expect(seqs, `seq of ${conferenceId}`).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  const accepted = events.seen
    .filter(
      (e): e is Extract<ConferenceEventV1, { type: 'message-accepted' }> => e.type === 'message-accepted',
    )
    .sort((a, b) => a.seq - b.seq);
  const all = Object.values(sent).flat();
  expect(accepted.map((e) => e.body).sort(), `accepted in ${conferenceId}`).toEqual([...all].sort());
  for (const [from, bodies] of Object.entries(sent)) {
    expect(accepted.filter((e) => e.sender.address === from).map((e) => e.body)).toEqual(bodies);
  }
  const deliveryIds = perRecipient().map((d) => d.deliveryId);
  expect(new Set(deliveryIds).size, `no delivery twice in ${conferenceId}`).toBe(deliveryIds.length);
  for (const to of participants) {
    const received = perRecipient()
      .filter((d) => d.to === to)
      .map(chatText)
      .filter((t) => t !== null);
    const due = accepted.filter((e) => e.sender.address !== to).map((e) => e.body);
    expect(received, `what ${to} received in ${conferenceId}`).toEqual(due);
  }
}

/**
 * Waits until the relay is quiet: nothing left to consume or in hand on the conferences'
 * partitions, nothing left in the outbox, and everything IM_OUTBOUND and CONF_EVENTS hold has been
 * read. Only then can duplicates be counted.
 */
export async function waitUntilSettled(
  bus: JetStreamBus,
  db: pg.Client,
  conferences: ChaosConference[],
): Promise<void> {
  const partitions = new Set(conferences.map((c) => inboundPartition(c.conferenceId)));
  await waitFor('conference-core to have consumed and acked every inbound event', async () => {
    for (const partition of partitions) {
      const info = await bus.jsm.consumers.info(
        streams.imInbound().name,
        consumers.conferenceCoreInboundPartition(partition),
      );
      if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
    }
    return true;
  });
  await waitFor('the outbox to be fully relayed', async () => {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${testSchema('conference-core')}".outbox WHERE sent_at IS NULL`,
    );
    return rows[0]!.n === 0;
  });
  const stored = (stream: string, subject: string) => storedCount(bus, stream, subject);
  for (const { conferenceId, deliveries, events } of conferences) {
    const storedDeliveries = await stored(
      streams.imOutbound().name,
      subjects.imOutbound('xmpp', conferenceId),
    );
    const storedEvents = await stored(streams.confEvents().name, subjects.confEvents(conferenceId));
    await waitFor(
      `all ${storedDeliveries} stored deliveries and ${storedEvents} events of ${conferenceId} read`,
      () =>
        deliveries.seen.length === storedDeliveries && events.seen.length === storedEvents ? true : null,
    );
  }
}

/**
 * What a conference-core chaos test runs against: an RPC client and a bus on the test's prefix, a
 * database client, and the processes and stream followers it started (all stopped by `close`).
 */
export class ChaosRig {
  readonly children: ServiceProcess[] = [];
  readonly followers: Array<{ stop: () => Promise<void> }> = [];

  private constructor(
    readonly rpc: RpcClient,
    readonly bus: JetStreamBus,
    readonly db: pg.Client,
  ) {}

  static async open(name: string): Promise<ChaosRig> {
    const rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    const bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name });
    await bus.ensureStreams();
    const db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();
    return new ChaosRig(rpc, bus, db);
  }

  async close(): Promise<void> {
    for (const { child, exited } of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    }
    for (const follower of this.followers) await follower.stop();
    await this.bus.close();
    await this.rpc.close();
    await this.db.end();
  }
}

/**
 * Draws new (draft) conferences until each holder of the partitions (`holderOf`: partition → replica
 * or process) has `count / holders` of them — a kill proves nothing unless both sides have some.
 */
export async function drawConferencesSplit<H>(
  rpc: RpcClient,
  ownerId: string,
  count: number,
  holderOf: Map<number, H>,
  name: string,
): Promise<string[]> {
  const holders = new Set(holderOf.values()).size;
  const ids: string[] = [];
  const perHolder = new Map<H, number>();
  for (let i = 0; ids.length < count && i < 200; i++) {
    const { id } = await rpc.call(conferencesRpc.create, { ownerId, name: `${name} ${i}` });
    const holder = holderOf.get(inboundPartition(id))!;
    if ((perHolder.get(holder) ?? 0) >= count / holders) continue;
    perHolder.set(holder, (perHolder.get(holder) ?? 0) + 1);
    ids.push(id);
  }
  expect([...perHolder.values()], 'conferences on every holder').toEqual(
    Array.from({ length: holders }, () => count / holders),
  );
  return ids;
}
