/**
 * A durable JetStream consumer that hands validated messages to a handler in batches: it buffers up
 * to `batchSize` messages or `flushMs` milliseconds, calls the handler once for the whole batch
 * (one database transaction), and acks them only after the handler returned. The semantics mirror
 * @parley/bus's DurableConsumer, batch-wise:
 * - a message that is not JSON or fails the stream's schema goes to `dlq.<stream>` (published
 *   first, then acked) and never blocks the ones behind it;
 * - when a batch fails, each message is retried alone, so one bad message cannot hold back its
 *   neighbours; a message that keeps failing is nak'ed with backoff and dead-lettered after
 *   `maxDeliver` attempts — unless `isOutage` says the store is down, which is waited out;
 * - a crash between commit and ack redelivers the batch: the handler must be idempotent.
 */
import type { z } from 'zod';
import type { StreamDefinition } from '@parley/contracts';
import { describeError, type JetStreamBus } from '@parley/bus';
import { busMetrics, logger } from '@parley/observability';

export interface BatchingConsumerOptions<S extends z.ZodType> {
  stream: StreamDefinition<S>;
  durable: string;
  filterSubject?: string;
  /** Stores a batch; must be idempotent (a batch may be redelivered after a crash). */
  handler: (messages: Array<z.infer<S>>) => Promise<void>;
  /** Most messages per handler call (1 = one by one). */
  batchSize: number;
  /** Longest a message waits in the buffer for a batch to fill. */
  flushMs: number;
  maxDeliver?: number;
  backoffMs?: number[];
  /** How long the server waits for an ack before redelivering (also after a crash). */
  ackWaitMs?: number;
  /**
   * Whether a handler failure is an outage of what it writes to (e.g. PostgreSQL not answering)
   * rather than a problem with the messages: such failures are retried without limit.
   */
  isOutage?: (error: unknown) => Promise<boolean>;
}

// The JetStream client types, taken from the bus (this service does not depend on the client package).
type Consumer = Awaited<ReturnType<JetStreamBus['js']['consumers']['get']>>;
type ConsumerMessages = Awaited<ReturnType<Consumer['consume']>>;
type JsMsg = ConsumerMessages extends AsyncIterable<infer M> ? M : never;

interface Pending<T> {
  msg: JsMsg;
  message: T;
}

const DEFAULT_BACKOFF_MS = [200, 1_000, 5_000, 15_000];

export class BatchingConsumer<S extends z.ZodType> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private buffer: Array<Pending<z.infer<S>>> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Flushes run one after another (size-triggered from the loop, time-triggered from the timer). */
  private flushing: Promise<void> = Promise.resolve();
  private readonly labels: { stream: string; consumer: string };

  constructor(
    private readonly bus: JetStreamBus,
    private readonly options: BatchingConsumerOptions<S>,
  ) {
    this.labels = { stream: options.stream.name, consumer: options.durable };
  }

  /** Creates or updates the durable consumer on the server, then starts pulling. */
  async start(): Promise<void> {
    const { batchSize } = this.options;
    const consumer = await this.bus.ensureDurableConsumer({
      stream: this.options.stream.name,
      durable: this.options.durable,
      filterSubject: this.options.filterSubject,
      ackWaitMs: this.options.ackWaitMs ?? 30_000,
      // Enough un-acked messages for a few batches in flight; order is restored by seq in the table.
      maxAckPending: Math.max(4 * batchSize, 256),
    });
    this.messages = await consumer.consume({ max_messages: Math.max(2 * batchSize, 64) });
    this.loop = this.run(this.messages);
  }

  /** Stops pulling, stores and acks what is buffered, and returns when the loop has ended. */
  async stop(): Promise<void> {
    if (!this.messages) return;
    const messages = this.messages;
    this.messages = undefined;
    await messages.close().catch(() => undefined);
    await this.loop;
    await this.flush();
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      if (!this.messages) {
        // Stopping: hand back what was pulled but not buffered, so another replica gets it at once.
        msg.nak();
        continue;
      }
      const message = await this.parse(msg);
      if (message === undefined) continue;
      this.buffer.push({ msg, message });
      if (this.buffer.length >= this.options.batchSize) {
        await this.flush();
      } else {
        this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
      }
    }
  }

  /** Parses and validates; dead-letters (and acks) a message that is not a valid stream message. */
  private async parse(msg: JsMsg): Promise<z.infer<S> | undefined> {
    try {
      return this.options.stream.schema.parse(JSON.parse(new TextDecoder().decode(msg.data))) as z.infer<S>;
    } catch (error) {
      const reason = `schema-invalid: ${describeError(error)}`;
      logger().warn(
        { subject: msg.subject, seq: msg.seq, reason, consumer: this.options.durable },
        'dead-lettering message',
      );
      await this.deadLetter(msg, reason);
      return undefined;
    }
  }

  /** Hands the buffered messages to the handler (queued behind any flush in progress). */
  flush(): Promise<void> {
    // A failure here (e.g. the DLQ publish) must not break the chain: the batch's messages stay
    // un-acked and come back after ack_wait.
    this.flushing = this.flushing
      .then(() => this.flushNow())
      .catch((error: unknown) => {
        logger().error(
          { err: error, consumer: this.options.durable },
          'flush failed; messages will be redelivered',
        );
      });
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const stopTimer = busMetrics.handlerSeconds.startTimer(this.labels);
    try {
      await this.options.handler(batch.map((p) => p.message));
      stopTimer({ outcome: 'ok' });
      for (const pending of batch) pending.msg.ack();
      busMetrics.consumed.inc(this.labels, batch.length);
      return;
    } catch (error) {
      stopTimer({ outcome: 'error' });
      // The store itself is down: no message is to blame, and trying them one by one is pointless.
      if (batch.length === 1 || (await this.isOutage(error))) {
        for (const pending of batch) await this.failed(pending, error);
        return;
      }
      logger().warn(
        { err: error, size: batch.length, consumer: this.options.durable },
        'batch failed; retrying one by one',
      );
    }
    for (const pending of batch) {
      try {
        await this.options.handler([pending.message]);
        pending.msg.ack();
        busMetrics.consumed.inc(this.labels);
      } catch (error) {
        await this.failed(pending, error);
      }
    }
  }

  private async isOutage(error: unknown): Promise<boolean> {
    try {
      return (await this.options.isOutage?.(error)) ?? false;
    } catch {
      return true;
    }
  }

  /**
   * A message whose handling failed: redelivered with backoff; dead-lettered after maxDeliver
   * attempts — unless the failure is an outage of the store, which is waited out instead (an
   * archive that dead-lettered everything while PostgreSQL restarts would lose history).
   */
  private async failed(pending: Pending<z.infer<S>>, error: unknown): Promise<void> {
    const { msg } = pending;
    const deliveryCount = msg.info.deliveryCount;
    const maxDeliver = this.options.maxDeliver ?? 5;
    const backoff = this.options.backoffMs ?? DEFAULT_BACKOFF_MS;
    if (deliveryCount >= maxDeliver && !(await this.isOutage(error))) {
      const reason = `exhausted after ${deliveryCount} attempts: ${describeError(error)}`;
      logger().error(
        { err: error, subject: msg.subject, seq: msg.seq, consumer: this.options.durable },
        reason,
      );
      await this.deadLetter(msg, reason);
      return;
    }
    const delay = backoff[Math.min(deliveryCount - 1, backoff.length - 1)] ?? 1_000;
    logger().warn(
      {
        err: error,
        subject: msg.subject,
        seq: msg.seq,
        consumer: this.options.durable,
        deliveryCount,
        delay,
      },
      'handler failed; redelivering',
    );
    busMetrics.redelivered.inc(this.labels);
    msg.nak(delay);
  }

  private deadLetter(msg: JsMsg, reason: string): Promise<void> {
    return this.bus.deadLetterAndAck(msg, this.options.stream.name, this.options.durable, reason);
  }
}
