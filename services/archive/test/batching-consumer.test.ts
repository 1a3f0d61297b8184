import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS, dlqStream, streams, subjects, type ConferenceEventV1 } from '@parley/contracts';
import { waitFor } from '@parley/testing';
import { BatchingConsumer } from '../src/ingest/batching-consumer.js';
import { confEventsPublisher, message } from './factories.js';

describe('batching consumer against a real NATS server', () => {
  let publisher: Awaited<ReturnType<typeof confEventsPublisher>>;
  const stream = streams.confEvents();

  beforeAll(async () => {
    publisher = await confEventsPublisher();
  });
  afterAll(async () => {
    await publisher?.bus.close();
  });

  /** Dead letters of CONF_EVENTS that came from `conferenceId`'s subject. */
  async function deadLetters(conferenceId: string): Promise<Array<{ seq: number; reason: string }>> {
    const dlq = await publisher.bus.js.consumers.get(dlqStream().name, { deliver_policy: 'all' });
    const found: Array<{ seq: number; reason: string }> = [];
    for (;;) {
      const msg = await dlq.next({ expires: 1_000 });
      if (!msg) break;
      if (msg.headers?.get(HEADERS.dlqSubject) === subjects.confEvents(conferenceId)) {
        found.push({ seq: msg.json<ConferenceEventV1>().seq, reason: msg.headers.get(HEADERS.dlqReason) });
      }
      if (msg.info.pending === 0) break;
    }
    return found;
  }

  function consumer(
    conferenceId: string,
    handler: (events: ConferenceEventV1[]) => Promise<void>,
    extra = {},
  ) {
    return new BatchingConsumer(publisher.bus, {
      stream,
      durable: `batching-${conferenceId}`,
      filterSubject: subjects.confEvents(conferenceId),
      batchSize: 20,
      flushMs: 20,
      maxDeliver: 3,
      backoffMs: [20],
      handler,
      ...extra,
    });
  }

  it('hands a burst to the handler in batches of at most the batch size, each event once', async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => publisher.publish(message('burst', i + 1, `m${i}`))),
    );
    const batches: number[][] = [];
    const burst = consumer('burst', async (events) => {
      batches.push(events.map((e) => e.seq));
    });
    await burst.start();
    await waitFor('50 events handled', () => batches.flat().length >= 50);
    await waitFor('every event acked', async () => {
      const info = await publisher.bus.jsm.consumers.info(stream.name, 'batching-burst');
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    await burst.stop();
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(Math.max(...batches.map((b) => b.length))).toBe(20);
  });

  it('retries a failing batch one by one: the neighbours are stored, the bad event is dead-lettered', async () => {
    for (let seq = 1; seq <= 5; seq++) await publisher.publish(message('mixed', seq, `m${seq}`));
    const stored: number[] = [];
    const mixed = consumer('mixed', async (events) => {
      if (events.some((e) => e.seq === 3)) throw new Error('row 3 violates a constraint');
      stored.push(...events.map((e) => e.seq));
    });
    await mixed.start();
    await waitFor('the bad event to be dead-lettered', async () => (await deadLetters('mixed')).length === 1);
    await mixed.stop();
    expect(stored.sort()).toEqual([1, 2, 4, 5]);
    expect(await deadLetters('mixed')).toEqual([
      { seq: 3, reason: 'exhausted after 3 attempts: row 3 violates a constraint' },
    ]);
  });

  it('waits out an outage of the store instead of dead-lettering', async () => {
    await publisher.publish(message('outage', 1, 'during the outage'));
    let attempts = 0;
    const stored: number[] = [];
    const outage = consumer(
      'outage',
      async (events) => {
        if (++attempts <= 5) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        stored.push(...events.map((e) => e.seq));
      },
      { isOutage: async () => attempts <= 5 },
    );
    await outage.start();
    await waitFor('the event to be stored after the outage', () => stored.length === 1);
    await outage.stop();
    expect(attempts).toBe(6);
    expect(await deadLetters('outage')).toEqual([]);
  });
});
