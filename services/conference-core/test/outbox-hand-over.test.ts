/**
 * The outbox's fast path (OutboxHandOver): a decision's rows published by the process that
 * committed them, in the conference's order, and left to the relay whenever that order is not
 * certain. Real PostgreSQL, real NATS, the real relay (never bootstrapped: no poll timer, so only a
 * kick runs a pass — counted here).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { JetStreamBus } from '@parley/bus';
import { streams, subjects } from '@parley/contracts';
import { testEnv, waitFor } from '@parley/testing';
import type { InsertedMessage } from '../src/outbox/outbox.hand-over.js';
import { OutboxRelay, enqueue, handOverInsert, type OutboxMessage } from '../src/outbox/outbox.relay.js';
import { acceptedEvent, openConferenceSchema } from './outbox-fixtures.js';

describe('a decision handing its outbox rows over', () => {
  let ds: DataSource;
  let bus: JetStreamBus;
  let nc: NatsConnection;
  let relay: OutboxRelay;
  let kicks = 0;

  /** Commits `messages` as a decision does (handOverInsert), answering their ids. */
  const commit = async (messages: OutboxMessage[]): Promise<InsertedMessage[]> => {
    const insert = handOverInsert(messages)!;
    const rows = (await ds.query(insert.sql, insert.params)) as Array<{ id: string; msg_id: string }>;
    return messages.map((message) => ({ id: rows.find((r) => r.msg_id === message.msgId)!.id, message }));
  };
  /** The conference's unsent rows, as the decision's transaction lists them. */
  const unsentOf = async (conferenceId: string): Promise<string[]> =>
    (
      (await ds.query(
        'SELECT id::text FROM outbox WHERE conference_id = $1 AND sent_at IS NULL ORDER BY id',
        [conferenceId],
      )) as Array<{ id: string }>
    ).map((r) => r.id);
  /** The seqs CONF_EVENTS holds for a conference, in stream order. */
  const storedSeqs = async (conferenceId: string): Promise<number[]> => {
    const consumer = await jetstream(nc).consumers.get(streams.confEvents().name, {
      filter_subjects: subjects.confEvents(conferenceId),
    });
    const seqs: number[] = [];
    let left = (await consumer.info(true)).num_pending;
    while (left > 0) {
      const before = left;
      for await (const msg of await consumer.fetch({ max_messages: left, expires: 2_000 })) {
        seqs.push(msg.json<{ seq: number }>().seq);
        left--;
      }
      if (left === before) throw new Error(`${left} stored messages could not be read`);
    }
    return seqs;
  };
  const newConference = () => `handover-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    ds = await openConferenceSchema('core_outbox_hand_over');
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'outbox-hand-over-test' });
    await bus.ensureStreams([streams.confEvents()]);
    nc = await connect({ servers: testEnv.natsUrl() });
    relay = new OutboxRelay(ds, bus);
    const kick = relay.kick.bind(relay);
    relay.kick = () => {
      kicks++;
      kick();
    };
  });

  afterAll(async () => {
    await relay?.onModuleDestroy(); // waits for the relay's failing passes of the last test
    await nc?.close();
    await ds?.destroy();
    await bus?.close();
  }, 30_000);

  it('publishes them itself, in order, and marks them sent, without a relay pass', async () => {
    const conferenceId = newConference();
    const kicksBefore = kicks;
    for (let seq = 1; seq <= 5; seq++) {
      const unsent = await unsentOf(conferenceId); // the rows before, on their way or just stored
      relay.handOver.committed(conferenceId, unsent, await commit([acceptedEvent(conferenceId, seq)]));
    }
    await waitFor('every row marked sent', async () => (await unsentOf(conferenceId)).length === 0);
    expect(await storedSeqs(conferenceId)).toEqual([1, 2, 3, 4, 5]);
    expect(kicks - kicksBefore, 'relay passes asked for').toBe(0);
  });

  it('leaves them to the relay behind an unsent row it did not hand over, which goes first', async () => {
    const conferenceId = newConference();
    // Committed by another replica (an owner command, say) and not yet relayed.
    await ds.transaction((manager) => enqueue(manager, [acceptedEvent(conferenceId, 1)]));
    const unsent = await unsentOf(conferenceId);
    expect(unsent).toHaveLength(1);
    const kicksBefore = kicks;
    relay.handOver.committed(conferenceId, unsent, await commit([acceptedEvent(conferenceId, 2)]));
    expect(kicks - kicksBefore, 'a relay pass asked for').toBe(1);
    await waitFor('both rows relayed', async () => (await unsentOf(conferenceId)).length === 0);
    expect(await storedSeqs(conferenceId)).toEqual([1, 2]);
  });

  it('publishes nothing behind a hand-over that failed, and leaves both to the relay', async () => {
    const conferenceId = newConference();
    // A subject no stream takes: its publish fails, here and in the relay's pass.
    const failing = { ...acceptedEvent(conferenceId, 1), subject: `nowhere.${conferenceId}` };
    const [first] = await commit([failing]);
    const second = await commit([acceptedEvent(conferenceId, 2)]);
    const kicksBefore = kicks;
    // The second decision saw the first's row unsent and handed over here: it is chained behind it.
    relay.handOver.committed(conferenceId, [], [first!]);
    relay.handOver.committed(conferenceId, [first!.id], second);
    expect(kicks - kicksBefore, 'no relay pass asked for yet').toBe(0);
    // The publish is retried for about 6 s before it fails.
    await waitFor('both left to the relay', () => kicks - kicksBefore === 2, 20_000);
    expect(await unsentOf(conferenceId)).toHaveLength(2);
    expect(await storedSeqs(conferenceId), 'nothing stored ahead of the failed row').toEqual([]);
  }, 30_000);
});
