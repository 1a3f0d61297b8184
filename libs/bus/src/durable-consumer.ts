/**
 * The one durable JetStream consumer of every service. It never lets one message poison a stream,
 * and never lets one lane hold up another:
 * - parse + validate; a schema-invalid message goes to `dlq.<stream>` with the reason and is acked;
 * - **lanes**: messages with the same lane key (`laneOf`, e.g. the conference id) are handled one at
 *   a time in stream order; different lanes run in parallel (up to `maxAckPending` messages in
 *   hand). Without `laneOf` there is one lane: strict stream order;
 * - **one retry policy**, in-process so that a lane keeps its order: a failure that is an outage of
 *   a dependency (`isOutage`, e.g. PostgreSQL or the IM network away) is waited out with backoff, as
 *   long as it lasts; any other failure is retried `maxAttempts` times, then dead-lettered with its
 *   reason and acked — only its own lane waited meanwhile;
 * - ack only after the handler returned (its side effect committed): at-least-once, and handlers
 *   are idempotent on the message id; every message in hand heartbeats (`working()`), so ack_wait
 *   only ever expires for a consumer that really died.
 */
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { z } from 'zod';
import { HEADERS, type StreamDefinition } from '@parley/contracts';
import { busMetrics, logger, withCorrelationId } from '@parley/observability';
import type { JetStreamBus } from './jetstream-bus.js';

export interface MessageContext {
  subject: string;
  /** 1 on the first attempt; counts server redeliveries and in-process retries. */
  deliveryCount: number;
  streamSequence: number;
}

export interface DurableConsumerOptions<S extends z.ZodType> {
  stream: StreamDefinition<S>;
  durable: string;
  /** Only messages on this subject (wildcards allowed). */
  filterSubject?: string;
  handler: (message: z.infer<S>, context: MessageContext) => Promise<void>;
  /**
   * The lane of a message: same key, one at a time in stream order; different keys in parallel.
   * Absent: one lane for the whole consumer.
   */
  laneOf?: (message: z.infer<S>, subject: string) => string;
  /** Attempts for a message that fails for a reason of its own (not an outage), then dead-lettered. */
  maxDeliver?: number;
  /** Delay before retry n (1-based), in ms; the last value repeats. */
  backoffMs?: number[];
  /** Whether a handler failure is an outage of a dependency (waited out, never dead-lettered). */
  isOutage?: (error: unknown) => boolean | Promise<boolean>;
  /** Messages in hand (pulled, not yet acked). Default: 1 with one lane, 512 with lanes. */
  maxAckPending?: number;
  /** How long the server waits for an ack before redelivering to another consumer (after a crash). */
  ackWaitMs?: number;
  /** Start by re-reading everything after the ack floor (taking over from a consumer that died). */
  resetToAckFloor?: boolean;
  /**
   * Handles several waiting messages of one lane at once, all or nothing (e.g. one transaction):
   * when a lane has a backlog, up to `maxBatch` of its messages go to this handler together. If it
   * throws, each is handled alone by `handler` under the retry policy, so a bad one is isolated.
   */
  batchHandler?: (messages: Array<z.infer<S>>, contexts: MessageContext[]) => Promise<void>;
  /** Most messages a batch takes (default 32). */
  maxBatch?: number;
  /**
   * With a batchHandler: a lane that was idle waits this long (ms) after its first message, or
   * until `maxBatch` messages wait (or `maxAckPending` are in hand), before handling them: under
   * light load a batch instead of a transaction and an ack per message, for a consumer whose
   * readers can wait that long (the archive). Default 0: handled at once.
   */
  batchLingerMs?: number;
  /** Called after a message the handler could not process was dead-lettered (e.g. to tell its sender). */
  onDeadLetter?: (message: z.infer<S>, reason: string) => Promise<void>;
}

const DEFAULT_BACKOFF_MS = [200, 1_000, 5_000, 15_000];
const DEFAULT_ACK_WAIT_MS = 30_000;

interface Lane<T> {
  /** Messages waiting behind the one in progress, in stream order. */
  queue: Array<{ msg: JsMsg; payload: T }>;
  running: boolean;
  /** Ends the lane's linger (batchLingerMs) early: batch full, maxAckPending in hand, or a stop. */
  endLinger?: () => void;
}

export class DurableConsumer<S extends z.ZodType> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxDeliver: number;
  private readonly maxBatch: number;
  private readonly maxAckPending: number;
  private readonly backoffMs: number[];
  private readonly lanes = new Map<string, Lane<z.infer<S>>>();
  /** Every message in hand (queued or in progress), for heartbeats. */
  private readonly inHand = new Set<JsMsg>();
  private heartbeat: NodeJS.Timeout | undefined;
  private idle: Array<() => void> = [];
  private stopping = false;
  private readonly labels: { stream: string; consumer: string };

  constructor(
    private readonly bus: JetStreamBus,
    private readonly options: DurableConsumerOptions<S>,
  ) {
    this.maxDeliver = options.maxDeliver ?? 5;
    this.maxBatch = options.maxBatch ?? 32;
    this.maxAckPending = options.maxAckPending ?? (options.laneOf ? 512 : 1);
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.labels = { stream: options.stream.name, consumer: options.durable };
  }

  get name(): string {
    return this.options.durable;
  }

  /** How many messages are in hand now (for tests and metrics). */
  get pending(): number {
    return this.inHand.size;
  }

  /** Creates or updates the durable consumer on the server, then starts pulling. */
  async start(): Promise<void> {
    const { maxAckPending } = this;
    const ackWaitMs = this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    const consumer = await this.bus.ensureDurableConsumer({
      stream: this.options.stream.name,
      durable: this.options.durable,
      filterSubject: this.options.filterSubject,
      ackWaitMs,
      maxAckPending,
      resetToAckFloor: this.options.resetToAckFloor,
    });
    this.stopping = false;
    this.heartbeat = setInterval(
      () => {
        for (const msg of this.inHand) msg.working();
      },
      Math.max(ackWaitMs / 3, 100),
    );
    this.heartbeat.unref();
    this.messages = await consumer.consume({ max_messages: Math.min(Math.max(maxAckPending, 16), 1_024) });
    this.loop = this.run(this.messages);
  }

  /**
   * Stops pulling, finishes the message in progress in each lane, hands back what was pulled but
   * not handled (nak: the next consumer gets it at once), and returns when all is settled.
   */
  async stop(): Promise<void> {
    if (!this.messages) return;
    const messages = this.messages;
    this.messages = undefined;
    this.stopping = true;
    for (const lane of this.lanes.values()) lane.endLinger?.();
    await messages.close().catch(() => undefined);
    await this.loop;
    await this.drained();
    clearInterval(this.heartbeat);
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      if (this.stopping) {
        settle(() => msg.nak());
        continue;
      }
      let payload: z.infer<S>;
      try {
        payload = this.options.stream.schema.parse(
          JSON.parse(new TextDecoder().decode(msg.data)),
        ) as z.infer<S>;
      } catch (error) {
        await this.deadLetter(msg, `schema-invalid: ${describeError(error)}`, 'warn').catch((e: unknown) =>
          this.unsettled(msg, e),
        );
        continue;
      }
      const key = this.options.laneOf?.(payload, msg.subject) ?? '';
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { queue: [], running: false };
        this.lanes.set(key, lane);
      }
      this.inHand.add(msg);
      lane.queue.push({ msg, payload });
      if (lane.queue.length >= this.maxBatch) lane.endLinger?.();
      // Nothing more can come while maxAckPending are in hand: no lane waits for more.
      if (this.inHand.size >= this.maxAckPending) for (const each of this.lanes.values()) each.endLinger?.();
      if (!lane.running) void this.drainLane(key, lane);
    }
  }

  /** Handles a lane's messages one after another until its queue is empty. */
  private async drainLane(key: string, lane: Lane<z.infer<S>>): Promise<void> {
    lane.running = true;
    await this.linger(lane);
    while (lane.queue.length > 0) {
      if (this.options.batchHandler && lane.queue.length > 1 && !this.stopping) {
        const batch = lane.queue.splice(0, this.maxBatch);
        if (await this.handleBatch(batch)) {
          for (const { msg } of batch) this.inHand.delete(msg);
          continue;
        }
        lane.queue.unshift(...batch); // one by one, under the retry policy
      }
      const { msg, payload } = lane.queue.shift()!;
      if (this.stopping) {
        settle(() => msg.nak());
      } else {
        try {
          await withCorrelationId(msg.headers?.get(HEADERS.correlationId) || undefined, () =>
            this.handle(msg, payload),
          );
        } catch (error) {
          this.unsettled(msg, error);
        }
      }
      this.inHand.delete(msg);
    }
    lane.running = false;
    this.lanes.delete(key);
    if (this.lanes.size === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** A lane that was idle gathers a batch first (batchLingerMs), unless it is full or stopping. */
  private async linger(lane: Lane<z.infer<S>>): Promise<void> {
    const ms = this.options.batchLingerMs ?? 0;
    if (ms <= 0 || !this.options.batchHandler || this.stopping) return;
    if (lane.queue.length >= this.maxBatch || this.inHand.size >= this.maxAckPending) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => lane.endLinger?.(), ms);
      lane.endLinger = () => {
        clearTimeout(timer);
        lane.endLinger = undefined;
        resolve();
      };
    });
  }

  /** One attempt at a lane's backlog in one go; true when every message of it was acked. */
  private async handleBatch(batch: Array<{ msg: JsMsg; payload: z.infer<S> }>): Promise<boolean> {
    const stopTimer = busMetrics.handlerSeconds.startTimer(this.labels);
    try {
      await this.options.batchHandler!(
        batch.map((item) => item.payload),
        batch.map(({ msg }) => ({
          subject: msg.subject,
          deliveryCount: msg.info.deliveryCount,
          streamSequence: msg.seq,
        })),
      );
    } catch (error) {
      stopTimer({ outcome: 'error' });
      logger().warn(
        { err: error, consumer: this.name, size: batch.length },
        'a batch failed; handling its messages one by one',
      );
      return false;
    }
    stopTimer({ outcome: 'ok' });
    for (const { msg } of batch) {
      settle(() => msg.ack());
      busMetrics.consumed.inc(this.labels);
    }
    return true;
  }

  private drained(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Handles one message under the retry policy; acks or dead-letters it. */
  private async handle(msg: JsMsg, payload: z.infer<S>): Promise<void> {
    const firstDelivery = msg.info.deliveryCount;
    let failures = 0;
    let outageWaits = 0;
    for (;;) {
      const deliveryCount = firstDelivery + failures + outageWaits;
      const stopTimer = busMetrics.handlerSeconds.startTimer(this.labels);
      try {
        await this.options.handler(payload, { subject: msg.subject, deliveryCount, streamSequence: msg.seq });
        stopTimer({ outcome: 'ok' });
        msg.ack();
        busMetrics.consumed.inc(this.labels);
        return;
      } catch (error) {
        stopTimer({ outcome: 'error' });
        const isOutage = await this.isOutage(error);
        if (isOutage) outageWaits++;
        else failures++;
        const attempts = firstDelivery - 1 + failures;
        const isPermanent = !isOutage && isInvalidInput(error);
        if (isPermanent || (!isOutage && attempts >= this.maxDeliver)) {
          const reason = isPermanent
            ? `unprocessable: ${describeError(error)}`
            : `exhausted after ${attempts} attempts: ${describeError(error)}`;
          logger().error({ err: error, subject: msg.subject, seq: msg.seq, consumer: this.name }, reason);
          await this.deadLetter(msg, reason, 'error');
          await this.options
            .onDeadLetter?.(payload, reason)
            .catch((e: unknown) =>
              logger().warn(
                { err: e, consumer: this.name },
                'after dead-lettering: could not tell the sender',
              ),
            );
          return;
        }
        if (this.stopping) {
          // Shutting down mid-retry: the next consumer takes the message over at once.
          settle(() => msg.nak());
          return;
        }
        const tries = failures + outageWaits;
        const delay = this.backoffMs[Math.min(tries - 1, this.backoffMs.length - 1)] ?? 1_000;
        logger().warn(
          {
            err: error,
            subject: msg.subject,
            seq: msg.seq,
            consumer: this.name,
            attempt: tries,
            delay,
            isOutage,
          },
          isOutage ? 'a dependency is down; waiting it out' : 'handler failed; retrying',
        );
        busMetrics.redelivered.inc(this.labels);
        await sleep(delay);
      }
    }
  }

  private async isOutage(error: unknown): Promise<boolean> {
    try {
      return await (this.options.isOutage ?? isDependencyOutage)(error);
    } catch {
      return true;
    }
  }

  private deadLetter(msg: JsMsg, reason: string, level: 'warn' | 'error'): Promise<void> {
    if (level === 'warn') {
      logger().warn(
        { subject: msg.subject, seq: msg.seq, reason, consumer: this.name },
        'dead-lettering message',
      );
    }
    return this.bus.deadLetterAndAck(msg, this.options.stream.name, this.options.durable, reason);
  }

  /** Settling failed (e.g. the dead-letter publish while NATS is away): leave it for redelivery. */
  private unsettled(msg: JsMsg, error: unknown): void {
    logger().error(
      { err: error, subject: msg.subject, seq: msg.seq, consumer: this.name },
      'could not settle message',
    );
    settle(() => msg.nak(1_000));
  }
}

/** Acks/naks on a closed connection throw; the server redelivers after ack_wait anyway. */
function settle(action: () => void): void {
  try {
    action();
  } catch {
    // nothing more to do
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Thrown by a handler when something it needs is away (the IM network, another service): waited
 * out by the consumer, never dead-lettered.
 */
export class DependencyUnavailable extends Error {
  override readonly name = 'DependencyUnavailable';
}

/** PostgreSQL/socket error codes that say "the server is away", not "this message is wrong". */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/**
 * The default answer to "is this failure an outage?": a DependencyUnavailable, a connection-level
 * error code, or the pg/NATS clients' words for a lost connection.
 */
export function isDependencyOutage(error: unknown): boolean {
  if (error instanceof DependencyUnavailable) return true;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
  const text = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|CONNECTION_CLOSED|DISCONNECT|ECONNREFUSED/i.test(
    text,
  );
}

/**
 * A failure no retry can help: the handler produced something its own schemas reject (a zod error).
 * It is dead-lettered at once instead of retried while its lane waits.
 */
export function isInvalidInput(error: unknown): boolean {
  return !!error && typeof error === 'object' && 'issues' in error && Array.isArray(error.issues);
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
