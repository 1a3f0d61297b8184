/**
 * JetStream plumbing shared by every service: idempotent stream provisioning, a validating
 * publisher that sets `Nats-Msg-Id`, and durable consumers (see durable-consumer.ts).
 * Plain class, no Nest inside, so tests and tools can use it directly.
 */
import {
  connect,
  headers as natsHeaders,
  nanos,
  type NatsConnection,
  type MsgHdrs,
} from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { z } from 'zod';
import { HEADERS, allStreams, dlqStream, type ServiceName, type StreamDefinition } from '@parley/contracts';
import { busMetrics, currentCorrelationId, logger, retry } from '@parley/observability';
import { DurableConsumer, type DurableConsumerOptions } from './durable-consumer.js';
import { natsConnectionOptions } from './rpc.js';
import { skipErrorAfterAnswer } from './request-answer-cost.js';

skipErrorAfterAnswer();

export interface BusConnectOptions {
  natsUrl: string;
  /** Shown in the NATS server's connection list. */
  name: string;
  /** Stream replicas (1 on a single server; 3 in production clusters). */
  replicas?: number;
  /** The service whose NATS user connects (its replies come on its own inbox prefix). */
  service?: ServiceName;
}

export interface PublishOptions {
  /** De-duplication key; defaults to the message's `id`. */
  msgId?: string;
  correlationId?: string;
  /**
   * The message was validated against this stream's schema at its own boundary already (e.g. when it
   * entered an outbox): skip the second parse on the hot path.
   */
  isValidated?: boolean;
}

/** How often a publish is retried when the server does not answer (same Nats-Msg-Id each time). */
const PUBLISH_ATTEMPTS = 5;

export class JetStreamBus {
  private readonly consumers = new Set<DurableConsumer<z.ZodType>>();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly replicas: number,
  ) {}

  static async connect(options: BusConnectOptions): Promise<JetStreamBus> {
    const nc = await retry(`connecting to NATS at ${options.natsUrl.replace(/\/\/[^@/]*@/g, '//***@')}`, () =>
      connect({
        ...natsConnectionOptions(options.natsUrl, options.service),
        name: options.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      }),
    );
    return JetStreamBus.fromConnection(nc, options.replicas);
  }

  static async fromConnection(nc: NatsConnection, replicas = 1): Promise<JetStreamBus> {
    const jsm = await jetstreamManager(nc);
    return new JetStreamBus(nc, jetstream(nc), jsm, replicas);
  }

  /** Creates or updates the given streams (all of the architecture's, plus the DLQ, by default). */
  async ensureStreams(definitions: Array<Omit<StreamDefinition, 'schema'>> = [...allStreams(), dlqStream()]) {
    for (const def of definitions) {
      const config: Partial<StreamConfig> & { name: string } = {
        name: def.name,
        subjects: def.subjects,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_age: nanos(def.maxAgeMs),
        duplicate_window: nanos(def.duplicateWindowMs),
        num_replicas: this.replicas,
      };
      try {
        await this.jsm.streams.info(def.name);
        await this.jsm.streams.update(def.name, config);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await this.jsm.streams.add(config);
      }
    }
  }

  /**
   * Checks that the given streams exist, without changing them: what every service but the stream
   * provisioner does at start-up (docs/bus.md, "Provisioning"). Waits (start-up retries) for a
   * provisioner that starts at the same time; then fails naming the missing stream.
   */
  async checkStreams(definitions: Array<Pick<StreamDefinition, 'name'>> = [...allStreams(), dlqStream()]) {
    for (const def of definitions) {
      await retry(`stream ${def.name} (created by the stream provisioner)`, async () => {
        try {
          await this.jsm.streams.info(def.name);
        } catch (error) {
          if (!isNotFound(error)) throw error;
          throw new Error(
            `the stream ${def.name} does not exist: start the stream provisioner first (PARLEY_PROVISION_STREAMS=true)`,
            { cause: error },
          );
        }
      });
    }
  }

  /**
   * Validates `message` against the stream's schema and publishes it with `Nats-Msg-Id` so a retry
   * (ours or the caller's) is stored once. Resolves after JetStream has stored it.
   */
  async publish<S extends z.ZodType>(
    stream: StreamDefinition<S>,
    subject: string,
    message: z.input<S>,
    options: PublishOptions = {},
  ): Promise<PubAck> {
    const parsed = (options.isValidated ? message : stream.schema.parse(message)) as { id?: string };
    const msgId = options.msgId ?? parsed.id;
    if (!msgId) throw new Error(`publish to ${subject}: message has no id and no msgId was given`);
    const hdrs = natsHeaders();
    const correlationId = options.correlationId ?? currentCorrelationId();
    if (correlationId) hdrs.set(HEADERS.correlationId, correlationId);
    const data = JSON.stringify(parsed);
    let lastError: unknown;
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      try {
        const ack = await this.js.publish(subject, data, { msgID: msgId, headers: hdrs });
        busMetrics.published.inc({ stream: stream.name });
        return ack;
      } catch (error) {
        lastError = error;
        logger().warn({ err: error, subject, msgId, attempt }, 'JetStream publish failed; retrying');
        await sleep(100 * 2 ** attempt);
      }
    }
    throw lastError;
  }

  /**
   * Which of `msgIds` the stream holds on `subject` among the messages stored since `since` (the
   * server's clock). For a publisher that must not store a message twice when the duplicate window
   * (2 minutes) may be over: what a failed attempt stored long ago is looked up, not published again.
   * Reads the headers only.
   */
  async storedMsgIds(
    streamName: string,
    subject: string,
    since: Date,
    msgIds: ReadonlySet<string>,
  ): Promise<Set<string>> {
    const found = new Set<string>();
    await this.scanStored(streamName, subject, since, true, (msg) => {
      const id = msg.headers?.get('Nats-Msg-Id');
      if (id && msgIds.has(id)) found.add(id);
      return found.size < msgIds.size;
    });
    return found;
  }

  /**
   * The data of the message stored on `subject` since `since` under the Nats-Msg-Id `msgId`
   * (undefined: none), for a look-up by id — e.g. a gateway rebuilding a delivery it did not send.
   */
  async storedMessage(
    streamName: string,
    subject: string,
    since: Date,
    msgId: string,
  ): Promise<Uint8Array | undefined> {
    let data: Uint8Array | undefined;
    await this.scanStored(streamName, subject, since, false, (msg) => {
      if (msg.headers?.get('Nats-Msg-Id') === msgId) data = msg.data;
      return data === undefined;
    });
    return data;
  }

  /**
   * Reads what the stream stored on `subject` since `since`, oldest first, with a consumer of its
   * own, until `visit` returns false or everything stored when it began was read.
   */
  private async scanStored(
    streamName: string,
    subject: string,
    since: Date,
    headersOnly: boolean,
    visit: (msg: JsMsg) => boolean,
  ): Promise<void> {
    const consumer = await this.js.consumers.get(streamName, {
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
      headers_only: headersOnly,
    });
    try {
      // What was stored since then, counted when the consumer was made: read exactly that much.
      let left = (await consumer.info(true)).num_pending;
      while (left > 0) {
        let read = 0;
        for await (const msg of await consumer.fetch({
          max_messages: Math.min(left, 1_000),
          expires: 5_000,
        })) {
          read++;
          if (!visit(msg)) return;
        }
        if (read === 0) return;
        left -= read;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  /** Publishes raw bytes to a dead-letter subject with the reason in headers. */
  async deadLetter(
    streamName: string,
    subject: string,
    data: Uint8Array,
    reason: string,
    original?: MsgHdrs,
  ) {
    const hdrs = natsHeaders();
    const correlationId = original?.get(HEADERS.correlationId);
    if (correlationId) hdrs.set(HEADERS.correlationId, correlationId);
    hdrs.set(HEADERS.dlqReason, reason.slice(0, 4000).replace(/[\r\n]+/g, ' '));
    hdrs.set(HEADERS.dlqSubject, subject);
    await this.js.publish(`dlq.${streamName}`, data, { headers: hdrs });
  }

  /**
   * Dead-letters a consumed message with its reason, then acks it. Publish first, then ack: a crash
   * in between redelivers (and dead-letters again), never loses.
   */
  async deadLetterAndAck(msg: JsMsg, streamName: string, consumer: string, reason: string): Promise<void> {
    await this.deadLetter(streamName, msg.subject, msg.data, reason, msg.headers);
    busMetrics.deadLettered.inc({ stream: streamName, consumer, reason: reason.split(':')[0]! });
    msg.ack();
  }

  /**
   * Creates or updates a durable pull consumer with explicit acks and returns it. `max_deliver` is
   * unlimited: exhaustion is decided by the caller, so the message can be dead-lettered.
   */
  async ensureDurableConsumer(options: {
    stream: string;
    durable: string;
    filterSubject?: string;
    ackWaitMs: number;
    maxAckPending: number;
    /**
     * Taking over from a consumer that may have died with messages in hand: restart delivery just
     * after the ack floor, so everything not yet acked comes again, in stream order, before anything
     * newer (handlers are idempotent, so what was acked out of order is skipped by them).
     */
    resetToAckFloor?: boolean;
  }): Promise<Consumer> {
    const { stream, durable } = options;
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(options.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: options.maxAckPending,
      ...(options.filterSubject ? { filter_subject: options.filterSubject } : {}),
    };
    let existing: Awaited<ReturnType<JetStreamManager['consumers']['info']>> | undefined;
    try {
      existing = await this.jsm.consumers.info(stream, durable);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (existing && options.resetToAckFloor && existing.num_ack_pending + existing.num_redelivered > 0) {
      await this.jsm.consumers.delete(stream, durable);
      await this.jsm.consumers.add(stream, {
        ...config,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: existing.ack_floor.stream_seq + 1,
      });
    } else if (existing) {
      await this.jsm.consumers.update(stream, durable, config);
    } else {
      await this.jsm.consumers.add(stream, { ...config, deliver_policy: DeliverPolicy.All });
    }
    return this.js.consumers.get(stream, durable);
  }

  /** Starts a durable consumer; it runs until `stop()` (or `close()` of the bus). */
  async consume<S extends z.ZodType>(options: DurableConsumerOptions<S>): Promise<DurableConsumer<S>> {
    const consumer = new DurableConsumer(this, options);
    await consumer.start();
    this.consumers.add(consumer as unknown as DurableConsumer<z.ZodType>);
    return consumer;
  }

  /** Drains consumers (finishing in-flight messages) and the connection. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

export function isNotFound(error: unknown): boolean {
  const text = String((error as { message?: string })?.message ?? error);
  return /not found/i.test(text);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
