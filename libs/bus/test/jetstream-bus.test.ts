import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliverPolicy } from '@nats-io/jetstream';
import {
  HEADERS,
  dlqStream,
  newEnvelope,
  streams,
  subjects,
  type ConferenceEventV1,
} from '@parley/contracts';
import { JetStreamBus } from '@parley/bus';
import { testEnv, waitFor } from '@parley/testing';

/** A valid CONF_EVENTS message for conference `c`, numbered `seq`. */
function joined(conferenceId: string, seq: number): ConferenceEventV1 {
  return {
    ...newEnvelope(),
    conferenceId,
    seq,
    type: 'participant-joined',
    participant: { network: 'xmpp', address: `user${seq}@example.org`, displayName: `user ${seq}` },
  };
}

describe('JetStream bus against a real NATS server', () => {
  let bus: JetStreamBus;
  const stream = streams.confEvents();

  beforeAll(async () => {
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'bus-test' });
    await bus.ensureStreams();
  });
  afterAll(async () => {
    await bus.close();
  });

  it('provisions streams idempotently', async () => {
    await bus.ensureStreams();
    const info = await bus.jsm.streams.info(stream.name);
    expect(info.config.subjects).toEqual([subjects.confEventsAll()]);
    expect(info.config.duplicate_window).toBe(stream.duplicateWindowMs * 1_000_000);
  });

  it('delivers once when the same Nats-Msg-Id is published twice', async () => {
    const event = joined('dedup', 1);
    const first = await bus.publish(stream, subjects.confEvents('dedup'), event);
    const second = await bus.publish(stream, subjects.confEvents('dedup'), event);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    const received: string[] = [];
    const consumer = await bus.consume({
      stream,
      durable: 'dedup',
      filterSubject: subjects.confEvents('dedup'),
      handler: async (message) => {
        received.push(message.id);
      },
    });
    await waitFor('the first delivery', () => received.length === 1);
    const info = await bus.jsm.consumers.info(stream.name, 'dedup');
    await consumer.stop();
    expect(received).toEqual([event.id]);
    expect(info.num_pending).toBe(0);
  });

  it('redelivers a message whose handler throws once, and then it succeeds', async () => {
    const event = joined('retry', 1);
    await bus.publish(stream, subjects.confEvents('retry'), event);
    const attempts: number[] = [];
    const handled: string[] = [];
    const consumer = await bus.consume({
      stream,
      durable: 'retry',
      filterSubject: subjects.confEvents('retry'),
      backoffMs: [50],
      handler: async (message, context) => {
        attempts.push(context.deliveryCount);
        if (context.deliveryCount === 1) throw new Error('transient failure');
        handled.push(message.id);
      },
    });
    await waitFor('the redelivered message to be handled', () => handled.length === 1);
    await consumer.stop();
    expect(attempts).toEqual([1, 2]);
    expect(handled).toEqual([event.id]);
  });

  it('sends a schema-invalid message to dlq.<stream> with its reason and handles the next valid one', async () => {
    const subject = subjects.confEvents('poison');
    await bus.js.publish(subject, JSON.stringify({ id: 'bad-1', type: 'participant-joined', seq: -4 }));
    await bus.js.publish(subject, 'not json at all');
    const valid = joined('poison', 1);
    await bus.publish(stream, subject, valid);
    const handled: string[] = [];
    const consumer = await bus.consume({
      stream,
      durable: 'poison',
      filterSubject: subject,
      handler: async (message) => {
        handled.push(message.id);
      },
    });
    await waitFor('the valid message after the poison ones', () => handled.length === 1);
    await consumer.stop();
    expect(handled).toEqual([valid.id]);

    const dlq = await bus.js.consumers.get(dlqStream().name, { deliver_policy: DeliverPolicy.All });
    const first = await dlq.next({ expires: 5_000 });
    const second = await dlq.next({ expires: 5_000 });
    expect(first?.subject).toBe(`dlq.${stream.name}`);
    expect(first?.json<{ id: string }>().id).toBe('bad-1');
    expect(first?.headers?.get(HEADERS.dlqReason)).toMatch(/^schema-invalid: .*seq/);
    expect(first?.headers?.get(HEADERS.dlqSubject)).toBe(subject);
    expect(second?.string()).toBe('not json at all');
    expect(second?.headers?.get(HEADERS.dlqReason)).toMatch(/^schema-invalid: .*JSON/);
  });

  it('dead-letters a message whose handler keeps failing, after the bounded attempts', async () => {
    const subject = subjects.confEvents('exhaust');
    const event = joined('exhaust', 1);
    await bus.publish(stream, subject, event);
    let attempts = 0;
    const consumer = await bus.consume({
      stream,
      durable: 'exhaust',
      filterSubject: subject,
      maxDeliver: 3,
      backoffMs: [20],
      handler: async () => {
        attempts++;
        throw new Error('database is on fire');
      },
    });
    const dlq = await bus.js.consumers.get(dlqStream().name, { deliver_policy: DeliverPolicy.All });
    const dead = await waitFor('the exhausted message in the DLQ', async () => {
      const m = await dlq.next({ expires: 1_000 });
      return m && m.headers?.get(HEADERS.dlqSubject) === subject ? m : undefined;
    });
    await consumer.stop();
    expect(attempts).toBe(3);
    expect(dead.headers?.get(HEADERS.dlqReason)).toBe('exhausted after 3 attempts: database is on fire');
  });

  it('resumes a restarted consumer where it stopped, losing nothing and repeating nothing', async () => {
    const subject = subjects.confEvents('resume');
    const total = 200;
    for (let seq = 1; seq <= total; seq++) await bus.publish(stream, subject, joined('resume', seq));
    const seen: number[] = [];
    const options = {
      stream,
      durable: 'resume',
      filterSubject: subject,
      maxAckPending: 1,
      // A message in flight when the first consumer stopped is redelivered after ack_wait.
      ackWaitMs: 1_000,
      handler: async (message: ConferenceEventV1) => {
        seen.push(message.seq);
      },
    };
    const first = await bus.consume(options);
    await waitFor('a part of the stream to be handled', () => seen.length >= 50);
    await first.stop();
    const handledBeforeRestart = seen.length;
    expect(handledBeforeRestart).toBeLessThan(total);

    const second = await bus.consume(options);
    await waitFor(`all ${total} messages`, () => seen.length >= total, 20_000);
    await second.stop();
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('lets an idle lane gather a batch (batchLingerMs), ends the wait when the batch is full, and hands a lingering message back on stop', async () => {
    const subject = subjects.confEvents('linger');
    const batches: number[][] = [];
    const singles: number[] = [];
    const options = {
      stream,
      durable: 'linger',
      filterSubject: subject,
      maxBatch: 3,
      maxAckPending: 8,
      // Far longer than the test may wait: only a full batch or a stop ends it.
      batchLingerMs: 120_000,
      batchHandler: async (messages: ConferenceEventV1[]) => {
        batches.push(messages.map((m) => m.seq));
      },
      handler: async (message: ConferenceEventV1) => {
        singles.push(message.seq);
      },
    };
    const consumer = await bus.consume(options);
    // Published one after another: the first waits for the other two, and the three go together.
    for (let seq = 1; seq <= 3; seq++) await bus.publish(stream, subject, joined('linger', seq));
    await waitFor('the full batch', () => batches.length === 1);
    expect(batches).toEqual([[1, 2, 3]]);

    // A lone message lingers; stopping ends the wait at once and hands it back, unhandled.
    await bus.publish(stream, subject, joined('linger', 4));
    await waitFor('the lone message in hand', () => consumer.pending === 1);
    await consumer.stop();
    expect(singles).toEqual([]);
    expect(batches).toEqual([[1, 2, 3]]);

    // The next consumer (no linger) gets it at once, alone.
    const next = await bus.consume({ ...options, batchLingerMs: 0 });
    await waitFor('the handed-back message', () => singles.length === 1);
    await next.stop();
    expect(singles).toEqual([4]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('refuses to publish a message that does not match the stream schema', async () => {
    await expect(
      bus.publish(stream, subjects.confEvents('x'), { ...joined('x', 1), seq: 0 } as ConferenceEventV1),
    ).rejects.toThrow(/seq/);
  });
});
