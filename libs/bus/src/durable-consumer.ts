/**
 * A durable JetStream consumer that never lets one message poison a stream:
 * parse + validate → handler → ack only after the handler returned (its side effect committed);
 * a throwing handler is redelivered with backoff, up to `maxDeliver` attempts; a schema-invalid
 * or exhausted message goes to `dlq.<stream>` with the reason and is acked.
 */
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { z } from 'zod';
import { HEADERS, type StreamDefinition } from '@parley/contracts';
import { busMetrics, logger, withCorrelationId } from '@parley/observability';
import type { JetStreamBus } from './jetstream-bus.js';

export interface MessageContext {
  subject: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  streamSequence: number;
}

export interface DurableConsumerOptions<S extends z.ZodType> {
  stream: StreamDefinition<S>;
  durable: string;
  /** Only messages on this subject (wildcards allowed). */
  filterSubject?: string;
  handler: (message: z.infer<S>, context: MessageContext) => Promise<void>;
  /** Total delivery attempts before the message is dead-lettered. */
  maxDeliver?: number;
  /** Delay before redelivery n (1-based), in ms; the last value repeats. */
  backoffMs?: number[];
  /** Un-acked messages in flight; 1 keeps strict order across redeliveries. */
  maxAckPending?: number;
  /**
   * How long the server waits for an ack before redelivering (a handler in progress heartbeats).
   * Keep it long when many messages wait in the pull buffer; with maxAckPending 1 it can be short.
   */
  ackWaitMs?: number;
}

const DEFAULT_BACKOFF_MS = [200, 1_000, 5_000, 15_000];
/** Long enough for messages waiting in the client's pull buffer; handlers in progress heartbeat. */
const DEFAULT_ACK_WAIT_MS = 30_000;

export class DurableConsumer<S extends z.ZodType> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxDeliver: number;
  private readonly backoffMs: number[];

  constructor(
    private readonly bus: JetStreamBus,
    private readonly options: DurableConsumerOptions<S>,
  ) {
    this.maxDeliver = options.maxDeliver ?? 5;
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  }

  get name(): string {
    return this.options.durable;
  }

  /** Creates or updates the durable consumer on the server, then starts pulling. */
  async start(): Promise<void> {
    const consumer = await this.bus.ensureDurableConsumer({
      stream: this.options.stream.name,
      durable: this.options.durable,
      filterSubject: this.options.filterSubject,
      ackWaitMs: this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
      maxAckPending: this.options.maxAckPending ?? 1_000,
    });
    this.messages = await consumer.consume({ max_messages: 256 });
    this.loop = this.run(this.messages);
  }

  /** Stops pulling, finishes the message in hand, and returns when the loop has ended. */
  async stop(): Promise<void> {
    if (!this.messages) return;
    const messages = this.messages;
    this.messages = undefined;
    await messages.close().catch(() => undefined);
    await this.loop;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      if (!this.messages) {
        // Stopping: hand back what was pulled but not handled, so the next consumer gets it at once
        // instead of after ack_wait.
        msg.nak();
        continue;
      }
      try {
        await withCorrelationId(msg.headers?.get(HEADERS.correlationId) || undefined, () => this.handle(msg));
      } catch (error) {
        // Settling failed (e.g. the dead-letter publish while NATS is away): leave the message
        // un-acked for redelivery and keep consuming, rather than ending this loop.
        logger().error(
          { err: error, subject: msg.subject, seq: msg.seq, consumer: this.name },
          'could not settle message',
        );
        try {
          msg.nak(1_000);
        } catch {
          // The connection is gone; the server redelivers after ack_wait.
        }
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { stream, durable } = this.options;
    const labels = { stream: stream.name, consumer: durable };
    const deliveryCount = msg.info.deliveryCount;
    let payload: z.infer<S>;
    try {
      payload = stream.schema.parse(JSON.parse(new TextDecoder().decode(msg.data))) as z.infer<S>;
    } catch (error) {
      const reason = `schema-invalid: ${describeError(error)}`;
      logger().warn(
        { subject: msg.subject, seq: msg.seq, reason, consumer: durable },
        'dead-lettering message',
      );
      await this.deadLetter(msg, reason);
      return;
    }
    const stopTimer = busMetrics.handlerSeconds.startTimer(labels);
    // While the handler runs, tell the server we are still on it, so a short ack_wait only ever
    // expires for a consumer that really died (and its message returns quickly).
    const ackWaitMs = this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    const heartbeat = setInterval(() => msg.working(), Math.max(ackWaitMs / 3, 100));
    try {
      try {
        await this.options.handler(payload, {
          subject: msg.subject,
          deliveryCount,
          streamSequence: msg.seq,
        });
      } finally {
        clearInterval(heartbeat);
      }
      stopTimer({ outcome: 'ok' });
      msg.ack();
      busMetrics.consumed.inc(labels);
    } catch (error) {
      stopTimer({ outcome: 'error' });
      if (deliveryCount >= this.maxDeliver) {
        const reason = `exhausted after ${deliveryCount} attempts: ${describeError(error)}`;
        logger().error({ err: error, subject: msg.subject, seq: msg.seq, consumer: durable }, reason);
        await this.deadLetter(msg, reason);
        return;
      }
      const delay = this.backoffMs[Math.min(deliveryCount - 1, this.backoffMs.length - 1)] ?? 1_000;
      logger().warn(
        { err: error, subject: msg.subject, seq: msg.seq, consumer: durable, deliveryCount, delay },
        'handler failed; redelivering',
      );
      busMetrics.redelivered.inc(labels);
      msg.nak(delay);
    }
  }

  private deadLetter(msg: JsMsg, reason: string): Promise<void> {
    return this.bus.deadLetterAndAck(msg, this.options.stream.name, this.options.durable, reason);
  }
}

/** A one-line reason for a log or a dead letter: zod issues by path, else the error's message. */
export function describeError(error: unknown): string {
  if (error && typeof error === 'object' && 'issues' in error && Array.isArray(error.issues)) {
    return error.issues
      .map((i: { path: PropertyKey[]; message: string }) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}
