/**
 * The runtime every gateway shares, around one network adapter: IM_OUTBOUND fan-out deliveries are
 * consumed durably with one lane per conference (a conference's deliveries in decided order, other
 * conferences' in parallel, so one slow conference or recipient holds up no other conference),
 * expanded into one send per recipient (all recipients of a fan-out in flight at once), rate
 * limited per recipient, de-duplicated per recipient, and acked only after the adapter says the
 * network accepted every one (a failure is retried, skipping the recipients already served; the
 * network being away is waited out). Which recipients were served is also written to the KV bucket
 * `delivery_progress` — the moment the adapter wrote each one to the network, and always before
 * the ack — so a restarted gateway skips them too; a delivery the network
 * bounces after accepting it (an XMPP error stanza) is kept there and retried with backoff, and
 * dead-lettered after the last attempt (ADR 0005). A gateway shared out between processes by
 * conference (gateway-irc) consumes only the outbound partitions whose lease it holds in the KV
 * bucket `gateway_leases`, brings their bots online as it takes them on, and sends nothing for a
 * partition it no longer surely holds (ADR 0006). Inbound events and presence are published to JetStream in the
 * order the network reported them, with stable ids; bot look-ups are RPCs to conference-core.
 * Adapters never see the bus.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  DependencyUnavailable,
  DomainError,
  JetStreamBus,
  RpcClient,
  type DurableConsumer,
  type MessageContext,
} from '@parley/bus';
import {
  conferencesRpc,
  consumers,
  deliveryFor,
  fanOutOfDelivery,
  inboundPartition,
  inboundPartitions,
  newEnvelope,
  streams,
  subjects,
  type BotInfo,
  type ImDeliveryV1,
  type ImDeliveryV2,
  type Network,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { BoundedMap, BoundedSet } from '@parley/runtime';
import type { KV } from '@nats-io/kv';
import { Reconnector } from './backoff.js';
import { BounceMemory } from './bounce-memory.js';
import {
  DeliveryProgressStore,
  FanOutProgress,
  openDeliveryProgressBucket,
  type BouncedDelivery,
} from './delivery-progress.js';
import { PartitionLeases, openGatewayLeasesBucket } from './partition-leases.js';
import { countDelivery, gatewayMetrics } from './metrics.js';
import {
  UndeliverableError,
  type GatewayPort,
  type InboundDraft,
  type NetworkAdapter,
  type PresenceDraft,
} from './network-adapter.js';
import { RateLimiter, type RateLimits } from './rate-limiter.js';

export const GATEWAY_OPTIONS = Symbol('GATEWAY_OPTIONS');

export interface GatewayOptions {
  network: Network;
  /** Builds the adapter; it reports to the gateway through `port`. */
  createAdapter: (port: GatewayPort) => NetworkAdapter;
  rateLimits: RateLimits;
  /** Redelivery delays while the network is away; the last repeats. */
  backoffMs?: number[];
  /** Attempts of a delivery failing for a reason of its own before it is dead-lettered. */
  maxDeliver?: number;
  /** Delays before the attempts that follow a bounce; after the last, the delivery is dead-lettered. */
  bounceRetryMs?: number[];
  /**
   * Test only: how long a served fan-out is held before its ack (its progress already written), so a
   * test can kill the gateway in that window. 0 in production.
   */
  holdBeforeAckMs?: number;
  /**
   * Test only: how long each recipient's send is held once the network took it and it was recorded
   * (in the writing step, or in the step its send resolved), before the fan-out goes on, so a test
   * can kill the gateway in that window. 0 in production.
   */
  holdAfterSendMs?: number;
  /** Stream replicas (for the KV bucket). */
  replicas?: number;
  /**
   * Consume deliveries only while the adapter is online (it must implement onOnlineChange). With
   * a network that takes one connection at a time (an XMPP component domain), a second process is
   * then a standby: it keeps trying to connect, holds no deliveries, and takes over — consumer
   * restarted at the ack floor, progress checked — as soon as the active one's connection is gone.
   */
  consumeOnlyWhileOnline?: boolean;
  /** Hand a conference's backlog of fan-outs to the network at once (see startConsuming). */
  batchDeliveries?: boolean;
  /**
   * Share the network's deliveries out between the gateway's processes by conference: each process
   * consumes the IM_OUTBOUND partitions it holds a lease on (ADR 0006), and brings the bots of their
   * active conferences online as it takes them on. Without it, one process consumes everything.
   */
  shareOutByConference?: boolean;
  /** Backoff of the connection attempts (a standby's attempts: how soon it takes over). */
  connectBackoff?: { initialMs: number; maxMs: number };
}

/** Default delays between attempts of a bounced delivery: about an hour in all, then dead-lettered. */
export const DEFAULT_BOUNCE_RETRY_MS = [5_000, 30_000, 120_000, 300_000, 900_000, 1_800_000];

/** How many recent per-recipient delivery ids are remembered, to skip what a retry already served. */
const SENT_MEMORY = 100_000;
/** Most bytes of message bodies remembered to recognise and retry a bounce (see BounceMemory). */
const AWAITING_BOUNCE_BYTES = 32 * 2 ** 20;
/**
 * How far back a bounce's fan-out is looked for when this process did not send it: XMPP servers
 * bounce a stanza for an unreachable server once their connection attempt failed (minutes at most).
 */
const BOUNCE_LOOKBACK_MS = 60 * 60_000;
/** Fan-out deliveries in hand at once (across all conference lanes). */
const IN_FLIGHT = 256;

@Injectable()
export class GatewayRuntime implements OnApplicationBootstrap, OnModuleDestroy, GatewayPort {
  readonly adapter: NetworkAdapter;
  readonly network: Network;
  /** The delivery consumers running: the network's one, or one per partition held (shared out). */
  private readonly consumers = new Map<
    string,
    DurableConsumer<ReturnType<typeof streams.imOutbound>['schema']>
  >();
  private leases: PartitionLeases | undefined;
  /** Publishes are chained so JetStream stores them in the order the network delivered them. */
  private publishing: Promise<unknown> = Promise.resolve();
  private readonly sent = new BoundedSet<string>(SENT_MEMORY);
  private readonly lastPresence = new BoundedMap<string, string>(SENT_MEMORY);
  private readonly limiter: RateLimiter;
  private connector: Reconnector | undefined;
  /** Per-sender inbound rate (see senderMayWrite). */
  private readonly senders: RateLimiter;
  private readonly toldTooFast = new BoundedSet<string>(SENT_MEMORY);
  private progress: DeliveryProgressStore | undefined;
  /** Message deliveries sent recently, by delivery id (= the stanza id), to recognise a bounce. */
  private readonly awaitingBounce = new BounceMemory(SENT_MEMORY, AWAITING_BOUNCE_BYTES);
  private readonly bounceTimers = new Map<string, NodeJS.Timeout>();
  private stopping = false;
  /** Consumer starts and stops, one after the other (standby mode). */
  private consuming: Promise<void> = Promise.resolve();

  constructor(
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
    private readonly bus: JetStreamBus,
    private readonly rpc: RpcClient,
  ) {
    this.network = options.network;
    this.adapter = options.createAdapter(this);
    this.limiter = new RateLimiter(options.rateLimits);
    this.senders = new RateLimiter({ network: null, recipient: options.rateLimits.sender });
  }

  /**
   * A network that is away is not a crash: the gateway starts anyway, reports not-ready, keeps
   * connecting with backoff, and deliveries wait (DependencyUnavailable) until it is online.
   */
  async onApplicationBootstrap(): Promise<void> {
    const bucket: KV = await openDeliveryProgressBucket(this.bus, this.options.replicas ?? 1);
    this.progress = new DeliveryProgressStore(bucket, this.network);
    // Shared out: a partition's bounced deliveries are picked up by whoever takes it on.
    if (!this.options.shareOutByConference) {
      for (const bounced of await this.progress.allBounced()) this.scheduleBounceRetry(bounced);
    }
    // The first attempt's outcome is awaited (a few seconds at most) before the service reports
    // itself up, so a network that answers is online by the time /health/ready is first asked.
    let firstAttemptDone: () => void = () => undefined;
    const firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
    this.connector = new Reconnector(
      `connecting to ${this.network}`,
      () => this.adapter.connect().finally(firstAttemptDone),
      this.options.connectBackoff ?? { initialMs: 500, maxMs: 15_000 },
    );
    const firstAttemptOrTimeout = () =>
      Promise.race([firstAttempt, new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref())]);
    if (this.options.consumeOnlyWhileOnline && this.adapter.onOnlineChange) {
      this.adapter.onOnlineChange((isOnline) => {
        this.consuming = this.consuming
          .then(() => (isOnline ? this.startConsuming() : this.stopConsuming()))
          .catch((error: unknown) =>
            logger().error({ err: error, isOnline }, 'could not start or stop consuming deliveries'),
          );
      });
      this.connector.lost();
      await firstAttemptOrTimeout();
      return;
    }
    this.connector.lost();
    await this.startConsuming();
    await firstAttemptOrTimeout();
  }

  /** Starts consuming deliveries (once): the network's one consumer, or the partitions' leases. */
  private async startConsuming(): Promise<void> {
    if (this.stopping) return;
    if (!this.options.shareOutByConference) {
      const durable = consumers.gatewayOutbound(this.network);
      if (!this.consumers.has(durable)) {
        this.consumers.set(durable, await this.consume(durable, subjects.imOutboundNetwork(this.network)));
      }
      return;
    }
    if (this.leases) return;
    const bucket = await openGatewayLeasesBucket(this.bus, this.options.replicas ?? 1);
    this.leases = new PartitionLeases(bucket, this.network, inboundPartitions(), {
      acquired: (partition) => this.takeOn(partition),
      released: (partition) => this.letGo(partition),
    });
    await this.leases.start();
  }

  /** A partition just leased: consume it, and bring its conferences' bots online. */
  private async takeOn(partition: number): Promise<void> {
    const durable = consumers.gatewayOutboundPartition(this.network, partition);
    this.consumers.set(
      durable,
      await this.consume(durable, subjects.imOutboundPartition(this.network, partition)),
    );
    void this.bringOnline(partition);
    void this.retryBouncedOf(partition);
  }

  /** The bounced deliveries of a partition just taken on, kept by whoever held it before. */
  private async retryBouncedOf(partition: number): Promise<void> {
    try {
      for (const bounced of await this.progressStore().allBounced()) {
        if (inboundPartition(bounced.delivery.conferenceId) === partition) this.scheduleBounceRetry(bounced);
      }
    } catch (error) {
      logger().error({ err: error, partition }, 'could not read the bounced deliveries of a partition');
    }
  }

  /** A partition given back or lost: stop consuming it (what is in hand finishes), then its bots go. */
  private async letGo(partition: number): Promise<void> {
    const durable = consumers.gatewayOutboundPartition(this.network, partition);
    const consumer = this.consumers.get(durable);
    this.consumers.delete(durable);
    await consumer?.stop();
    await this.adapter.letGo?.((conferenceId) => inboundPartition(conferenceId) === partition);
  }

  /** Asks conference-core for the partition's active bots until it answers (or the partition is gone). */
  private async bringOnline(partition: number): Promise<void> {
    if (!this.adapter.bringOnline) return;
    for (let attempt = 0; !this.stopping && this.leases?.holds(partition); attempt++) {
      try {
        const { conferences } = await this.rpc.call(conferencesRpc.activeBots, {
          network: this.network,
          partitions: [partition],
        });
        if (!this.leases.holds(partition)) return;
        this.adapter.bringOnline(conferences);
        logger().info({ partition, bots: conferences.length }, 'bringing the bots of a partition online');
        return;
      } catch (error) {
        logger().warn({ err: error, partition, attempt }, 'could not list the active bots; retrying');
        await sleep(Math.min(500 * 2 ** attempt, 10_000));
      }
    }
  }

  /**
   * One delivery consumer. A predecessor killed with fan-outs in hand: they would come back only
   * after ack_wait, behind newer ones (out of order). So the consumer restarts just after its ack
   * floor (one process consumes it at a time), and every fan-out up to the last one handed out
   * before is checked against the delivery progress: some were served, even acked, already. The
   * first such check waits until the bucket stored what it had been sent (`settle`): the
   * predecessor's last record may still have been on its way into the stream.
   */
  private async consume(durable: string, filterSubject: string) {
    const before = await this.bus.jsm.consumers.info(streams.imOutbound().name, durable).catch(() => null);
    const replayUpTo = before?.delivered.stream_seq ?? 0;
    // Before the first progress read of this consumer, the bucket has stored what it was sent.
    let settled: Promise<void> | undefined;
    const mayHaveBeenServed = async (context: MessageContext) => {
      if (context.deliveryCount === 1 && context.streamSequence > replayUpTo) return false;
      settled ??= this.progressStore()
        .settle()
        .catch((error: unknown) => {
          settled = undefined;
          throw new DependencyUnavailable(
            `delivery progress could not be written: ${(error as Error).message}`,
          );
        });
      await settled;
      return true;
    };
    return this.bus.consume({
      stream: streams.imOutbound(),
      durable,
      filterSubject,
      resetToAckFloor: true,
      handler: async (delivery, context) => this.deliver(delivery, await mayHaveBeenServed(context)),
      // A conference's backlog goes out pipelined: each recipient's sends in order, recipients side
      // by side, awaited together (PARLEY_GATEWAY_BATCH_DELIVERIES=false: one fan-out at a time).
      ...(this.options.batchDeliveries
        ? {
            batchHandler: async (deliveries: ImDeliveryV2[], contexts: MessageContext[]) =>
              this.deliverBatch(
                deliveries,
                await Promise.all(contexts.map((context) => mayHaveBeenServed(context))),
              ),
            maxBatch: 64,
          }
        : {}),
      // A conference's deliveries in the order conference-core decided them; conferences in parallel.
      laneOf: (delivery) => delivery.conferenceId,
      maxAckPending: IN_FLIGHT,
      maxDeliver: this.options.maxDeliver ?? 10,
      backoffMs: this.options.backoffMs ?? [200, 1_000, 5_000, 15_000],
    });
  }

  /**
   * Stops consuming: what is in hand goes back to JetStream for the next holder. Shared out, the
   * partitions are given back only after their consumers stopped.
   */
  private async stopConsuming(): Promise<void> {
    const leases = this.leases;
    this.leases = undefined;
    await leases?.stop();
    const running = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.all(running.map((consumer) => consumer.stop()));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    for (const timer of this.bounceTimers.values()) clearTimeout(timer);
    this.bounceTimers.clear();
    this.connector?.stop();
    await this.consuming;
    // Deliveries in progress finish; then the network connection closes, so nothing more comes in;
    // then everything that came in is published before the process may exit (SIGTERM loses nothing).
    await this.stopConsuming();
    await this.adapter.stop();
    await this.publishing;
  }

  /**
   * Serves every recipient of a fan-out not served yet, all in flight at once. Resolves when each
   * was accepted by the network (or is undeliverable: logged and dropped) and that progress is
   * written to the KV bucket; throws when any failed, so the fan-out is retried for those alone.
   * A fan-out that comes again (a retry, a redelivery after a crash, or a replay after the ack floor)
   * first reads which recipients an earlier attempt or process served.
   */
  private async deliver(fanOut: ImDeliveryV2, mayHaveBeenServed = false): Promise<void> {
    await this.serve(fanOut, await this.servedBefore(fanOut, mayHaveBeenServed));
  }

  /** The recipients of a fan-out an earlier attempt or process served (read only when it may have). */
  private async servedBefore(fanOut: ImDeliveryV2, mayHaveBeenServed: boolean): Promise<Set<number>> {
    if (!mayHaveBeenServed) return new Set<number>();
    const served = await this.readProgress(fanOut.deliveryId, fanOut.recipients.length);
    logger().info(
      { fanOutId: fanOut.deliveryId, recipients: fanOut.recipients.length, servedBefore: served.size },
      'a fan-out that may have been served before: recipients recorded as served are skipped',
    );
    return served;
  }

  /** Sends to every recipient not served yet; the sends are issued before the first await. */
  private async serve(fanOut: ImDeliveryV2, servedBefore: Set<number>): Promise<void> {
    const { network } = this;
    if (!this.adapter.isOnline) throw new DependencyUnavailable(`${network} is ${this.adapter.status}`);
    const total = fanOut.recipients.length;
    const progress = new FanOutProgress(this.progressStore(), fanOut.deliveryId, total, servedBefore);
    const pending: Array<{ index: number; delivery: ImDeliveryV1 }> = [];
    fanOut.recipients.forEach((to, index) => {
      const delivery = servedBefore.has(index) ? null : deliveryFor(fanOut, to);
      if (delivery && !this.sent.has(delivery.deliveryId)) pending.push({ index, delivery });
      else this.skipServed(progress, index, delivery);
    });
    const results = await Promise.allSettled(
      pending.map(({ index, delivery }) => this.serveRecipient(progress, index, delivery)),
    );
    gatewayMetrics.online.set({ network }, this.adapter.isOnline ? 1 : 0);
    try {
      await progress.flush();
    } catch (error) {
      // What was served is remembered in this process; the ack waits until the bucket is back.
      throw new DependencyUnavailable(`delivery progress could not be written: ${(error as Error).message}`);
    }
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length === 0) {
      if (this.options.holdBeforeAckMs) await sleep(this.options.holdBeforeAckMs);
      return;
    }
    if (!this.adapter.isOnline) throw new DependencyUnavailable(`${network} is ${this.adapter.status}`);
    throw failed[0]!.reason;
  }

  /**
   * Sends one recipient's delivery of a fan-out and keeps the fan-out's progress: recorded in the
   * step that wrote it (the adapter's onWritten) or, when the adapter could not tell then (the
   * server connection's buffer was full, so the kernel took the stanzas later), in the step its send
   * resolved — at once, not written behind: a gateway killed in between left a delivery the server
   * had without a record, and its next process sent it again. Taken out again if the send failed.
   */
  private async serveRecipient(
    progress: FanOutProgress,
    index: number,
    delivery: ImDeliveryV1,
  ): Promise<void> {
    try {
      await this.deliverOne(delivery, 0, () => progress.recordNow(index));
    } catch (error) {
      progress.unrecord(index);
      throw error;
    }
    progress.recordNow(index);
    if (this.options.holdAfterSendMs) await sleep(this.options.holdAfterSendMs);
  }

  /**
   * A recipient served before (`delivery` null: by the bucket's record) or sent by this process
   * already (a retry after a failed batch or progress write): not sent again. Sent here but not in
   * the bucket, it is recorded now, so that the record is whole before the ack and a later process
   * replaying the fan-out does not send it again.
   */
  private skipServed(progress: FanOutProgress, index: number, delivery: ImDeliveryV1 | null): void {
    countDelivery(this.network, 'duplicate');
    if (delivery) progress.mark(index);
  }

  private progressStore(): DeliveryProgressStore {
    if (!this.progress) throw new DependencyUnavailable('the delivery progress bucket is not open yet');
    return this.progress;
  }

  private async readProgress(fanOutId: string, total: number): Promise<Set<number>> {
    try {
      return await this.progressStore().served(fanOutId, total);
    } catch (error) {
      throw new DependencyUnavailable(`delivery progress could not be read: ${(error as Error).message}`);
    }
  }

  // ---- bounces ----------------------------------------------------------------------------------

  /**
   * The network refused a delivery after accepting it (an XMPP `<message type="error">` carrying the
   * delivery id as its stanza id). The delivery is kept in the KV bucket and sent again after a
   * backoff; after the last attempt it is dead-lettered (`dlq.<IM_OUTBOUND>`) with the reason. A
   * bounce for a delivery this process did not send (its sender died or was replaced before the
   * bounce came, or BounceMemory forgot it) is rebuilt from its fan-out in IM_OUTBOUND.
   * Resolves once the bounce is kept in the bucket (or dead-lettered, or found to need nothing):
   * only then may a network that acknowledges what it handed over be told (mod_parley_ack), or a
   * gateway killed in between would lose the retry. Rejects when it could not be kept (it is still
   * retried by this process).
   */
  bounced(deliveryId: string, reason: string, conferenceId: string): Promise<void> {
    const sent = this.awaitingBounce.take(deliveryId);
    if (sent?.delivery) return this.keepForRetry({ delivery: sent.delivery, bounces: sent.bounces }, reason);
    return this.recoverBounced(deliveryId, reason, conferenceId, sent?.bounces ?? 0);
  }

  /**
   * A bounce for a delivery this process does not remember, or whose body it forgot: its fan-out
   * (`fanOutOfDelivery`) is looked up by its msg id among the conference's fan-outs of the last
   * BOUNCE_LOOKBACK_MS, and the recipient's delivery is retried as the bounce after `bounces` (0 when
   * not remembered at all). Only the process that holds the conference does so.
   */
  private async recoverBounced(
    deliveryId: string,
    reason: string,
    conferenceId: string,
    bounces: number,
  ): Promise<void> {
    const { network } = this;
    const parts = fanOutOfDelivery(deliveryId);
    let delivery: ImDeliveryV1 | undefined;
    if (parts && this.holds(conferenceId)) {
      try {
        const data = await this.bus.storedMessage(
          streams.imOutbound().name,
          subjects.imOutbound(network, conferenceId),
          new Date(Date.now() - BOUNCE_LOOKBACK_MS),
          parts.fanOutId,
        );
        const fanOut =
          data && streams.imOutbound().schema.safeParse(JSON.parse(new TextDecoder().decode(data)));
        if (fanOut?.success && fanOut.data.recipients.includes(parts.recipient)) {
          delivery = deliveryFor(fanOut.data, parts.recipient);
        }
      } catch (error) {
        logger().warn({ err: error, deliveryId }, 'could not look up the fan-out of a bounced delivery');
      }
    }
    if (!delivery || delivery.kind !== 'message') {
      countDelivery(network, 'bounce-unknown');
      logger().warn({ deliveryId, reason }, 'bounce for a delivery that cannot be found; ignored');
      return;
    }
    logger().info(
      { deliveryId, reason },
      'bounce for a delivery not remembered here: rebuilt from its fan-out and retried',
    );
    await this.keepForRetry({ delivery, bounces }, reason);
  }

  /** Keeps a bounced delivery for its next attempt, or dead-letters it after the last. */
  private async keepForRetry(
    sent: { delivery: ImDeliveryV1; bounces: number },
    reason: string,
  ): Promise<void> {
    const { network } = this;
    const { deliveryId } = sent.delivery;
    countDelivery(network, 'bounced');
    const bounces = sent.bounces + 1;
    const delays = this.options.bounceRetryMs ?? DEFAULT_BOUNCE_RETRY_MS;
    const now = Date.now();
    if (bounces > delays.length) {
      await this.giveUp(sent.delivery, bounces, reason);
      return;
    }
    const bounced: BouncedDelivery = {
      delivery: sent.delivery,
      bounces,
      dueAt: now + delays[bounces - 1]!,
      reason,
      firstBouncedAt: now,
    };
    logger().warn({ deliveryId, to: sent.delivery.to, reason, bounces }, 'delivery bounced; will retry');
    this.scheduleBounceRetry(bounced);
    try {
      await this.progressStore().keepBounced(bounced);
    } catch (error) {
      logger().error({ err: error, deliveryId }, 'could not keep a bounced delivery; retrying in memory');
      throw error;
    }
  }

  private scheduleBounceRetry(bounced: BouncedDelivery): void {
    const id = bounced.delivery.deliveryId;
    clearTimeout(this.bounceTimers.get(id));
    const timer = setTimeout(
      () => {
        this.bounceTimers.delete(id);
        void this.retryBounced(bounced);
      },
      Math.max(0, bounced.dueAt - Date.now()),
    );
    timer.unref();
    this.bounceTimers.set(id, timer);
  }

  private async retryBounced(bounced: BouncedDelivery): Promise<void> {
    if (this.stopping) return;
    const { delivery } = bounced;
    // Shared out: the process holding the conference's partition retries it (it took it on from the bucket).
    if (!this.holds(delivery.conferenceId)) return;
    try {
      if (!this.adapter.isOnline) throw new Error(`${this.network} is ${this.adapter.status}`);
      await this.deliverOne(delivery, bounced.bounces);
      await this.progressStore().forgetBounced(delivery.deliveryId);
    } catch (error) {
      if (this.stopping) return;
      logger().warn({ err: error, deliveryId: delivery.deliveryId }, 'retry of a bounced delivery failed');
      this.scheduleBounceRetry({ ...bounced, dueAt: Date.now() + 2_000 });
    }
  }

  private async giveUp(delivery: ImDeliveryV1, bounces: number, reason: string): Promise<void> {
    const { network } = this;
    countDelivery(network, 'bounced-dead-lettered');
    const why = `bounced ${bounces} times by ${network}: ${reason}`;
    logger().error({ deliveryId: delivery.deliveryId, to: delivery.to, reason: why }, 'delivery given up');
    try {
      await this.bus.deadLetter(
        streams.imOutbound().name,
        subjects.imOutbound(network, delivery.conferenceId),
        new TextEncoder().encode(JSON.stringify(delivery)),
        why,
      );
      await this.progressStore().forgetBounced(delivery.deliveryId);
    } catch (error) {
      logger().error(
        { err: error, deliveryId: delivery.deliveryId },
        'could not dead-letter a bounced delivery',
      );
    }
  }

  /**
   * A lane's backlog at once: the fan-outs are started in order, so each recipient's sends are
   * issued in the lane's order (one connection writes them in that order), and awaited together —
   * one round of waiting for many fan-outs instead of one each. Settled before it throws, so a
   * retry one by one never races a send still in flight.
   */
  private async deliverBatch(fanOuts: ImDeliveryV2[], mayHaveBeenServed: boolean[]): Promise<void> {
    const { network } = this;
    // Progress reads first (replays only), so that the sends themselves still start in order.
    const served = await Promise.all(
      fanOuts.map((fanOut, i) => this.servedBefore(fanOut, mayHaveBeenServed[i] ?? true)),
    );
    if (!this.adapter.isOnline) throw new DependencyUnavailable(`${network} is ${this.adapter.status}`);
    // Each recipient's sends go one after another in the lane's order, recipients side by side. A
    // failed send stops that recipient's later ones in the batch: were they sent anyway, the retry
    // of the failed one would reach the recipient after them, out of order.
    const chains = new Map<string, Promise<boolean>>();
    const sends: Array<Promise<boolean>> = [];
    let firstError: unknown;
    const progresses = fanOuts.map((fanOut, i) => {
      const before = served[i]!;
      const progress = new FanOutProgress(
        this.progressStore(),
        fanOut.deliveryId,
        fanOut.recipients.length,
        before,
      );
      fanOut.recipients.forEach((to, index) => {
        const delivery = before.has(index) ? null : deliveryFor(fanOut, to);
        if (!delivery || this.sent.has(delivery.deliveryId)) {
          this.skipServed(progress, index, delivery);
          return;
        }
        const send = (chains.get(to) ?? Promise.resolve(true)).then(async (previousWent) => {
          if (!previousWent) return false;
          try {
            await this.serveRecipient(progress, index, delivery);
            return true;
          } catch (error) {
            firstError ??= error;
            return false;
          }
        });
        chains.set(to, send);
        sends.push(send);
      });
      return progress;
    });
    const went = await Promise.all(sends);
    gatewayMetrics.online.set({ network }, this.adapter.isOnline ? 1 : 0);
    try {
      await Promise.all(progresses.map((progress) => progress.flush()));
    } catch (error) {
      throw new DependencyUnavailable(`delivery progress could not be written: ${(error as Error).message}`);
    }
    if (went.every(Boolean)) {
      if (this.options.holdBeforeAckMs) await sleep(this.options.holdBeforeAckMs);
      return;
    }
    if (!this.adapter.isOnline) throw new DependencyUnavailable(`${network} is ${this.adapter.status}`);
    throw firstError;
  }

  /** `onWritten`: see NetworkAdapter.deliver (a fan-out records its recipient's progress there). */
  private async deliverOne(delivery: ImDeliveryV1, bounces = 0, onWritten?: () => void): Promise<void> {
    const { network } = this;
    // Only time actually held back by a bucket counts (event-loop delay is not rate limiting).
    const waited = await this.limiter.take(delivery.to);
    if (waited > 0) gatewayMetrics.rateLimitedSeconds.inc({ network }, waited / 1000);
    if (!this.holds(delivery.conferenceId)) {
      throw new DependencyUnavailable(`conference ${delivery.conferenceId} is no longer this process's`);
    }
    // Known before the send: a network may say "no" while the send is still in progress (IRC).
    if (delivery.kind === 'message') this.awaitingBounce.remember(delivery, bounces);
    try {
      if (delivery.kind === 'authorization-request') {
        await this.adapter.requestAuthorization(delivery, onWritten);
      } else await this.adapter.deliver(delivery, onWritten);
    } catch (error) {
      this.awaitingBounce.forget(delivery.deliveryId);
      if (error instanceof UndeliverableError) {
        countDelivery(network, 'undeliverable');
        logger().warn(
          { err: error.message, deliveryId: delivery.deliveryId, to: delivery.to },
          'undeliverable; dropped',
        );
        this.sent.add(delivery.deliveryId);
        return;
      }
      countDelivery(network, 'failed');
      throw error;
    }
    countDelivery(network, 'sent');
    this.sent.add(delivery.deliveryId);
  }

  // ---- GatewayPort ----------------------------------------------------------------------------

  inbound(event: InboundDraft): void {
    if (event.kind === 'message' && !this.senderMayWrite(event)) return;
    const message = { ...event, occurredAt: new Date().toISOString() };
    this.chain(
      () =>
        this.bus.publish(streams.imInbound(), subjects.imInbound(this.network, event.conferenceId), message),
      { what: 'inbound event', id: event.id, kind: event.kind },
      () => {
        // Not accepted, so not relayed: tell the sender instead of losing it silently.
        if (event.kind !== 'message') return;
        void this.adapter
          .deliver({
            ...newEnvelope(),
            deliveryId: `${event.id}:unavailable`,
            network: this.network,
            conferenceId: event.conferenceId,
            botName: event.conferenceId,
            to: event.from,
            kind: 'message',
            body: 'Sorry, your message could not be accepted right now; please send it again in a moment.',
          })
          .catch(() => undefined);
      },
    );
  }

  /**
   * The per-sender inbound rate: nobody may write to the bots faster than PARLEY_GATEWAY_RATE_SENDER
   * (after a burst); what is over it is not relayed, and the sender is told once per burst.
   */
  private senderMayWrite(event: Extract<InboundDraft, { kind: 'message' }>): boolean {
    const sender = `${event.from}`;
    if (this.senders.delayFor(sender) === 0) {
      this.senders.record(sender);
      this.toldTooFast.delete(sender);
      return true;
    }
    gatewayMetrics.inbound.inc({ network: this.network, kind: 'message', outcome: 'over-rate' });
    if (!this.toldTooFast.has(sender)) {
      this.toldTooFast.add(sender);
      void this.adapter
        .deliver({
          ...newEnvelope(),
          deliveryId: `${event.id}:too-fast`,
          network: this.network,
          conferenceId: event.conferenceId,
          botName: event.conferenceId,
          to: event.from,
          kind: 'message',
          body: 'You are sending faster than the conference can take: your last messages were not relayed. Please slow down.',
        })
        .catch(() => undefined);
    }
    return false;
  }

  presence(update: PresenceDraft): void {
    // A user known to several bots is reported by each: publish changes only.
    const key = `${update.address}/${update.resource}`;
    const value = `${update.show}|${update.status ?? ''}`;
    if (this.lastPresence.get(key) === value) return;
    this.lastPresence.set(key, value);
    const message = { ...newEnvelope(), network: this.network, ...update };
    this.chain(
      () => this.bus.publish(streams.presenceUpdates(), subjects.presenceUpdate(this.network), message),
      { what: 'presence update', id: message.id, kind: 'presence' },
    );
  }

  async bot(conferenceId: string): Promise<BotInfo | null> {
    try {
      return await this.rpc.call(conferencesRpc.bot, { conferenceId });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'not-found') return null;
      throw error;
    }
  }

  holds(conferenceId: string): boolean {
    return (
      !this.options.shareOutByConference || (this.leases?.holds(inboundPartition(conferenceId)) ?? false)
    );
  }

  async joinableBy(address: string): Promise<BotInfo[]> {
    return (await this.rpc.call(conferencesRpc.forAddress, { network: this.network, address })).conferences;
  }

  afterInbound(done: () => void): void {
    this.publishing = this.publishing.then(done);
  }

  private chain(
    publish: () => Promise<unknown>,
    context: { what: string; id: string; kind: string },
    onFailure?: () => void,
  ): void {
    const { network } = this;
    this.publishing = this.publishing
      .then(publish)
      .then(() => gatewayMetrics.inbound.inc({ network, kind: context.kind, outcome: 'published' }))
      .catch((error: unknown) => {
        // bus.publish already retried; the network will not resend, so this one is lost: say so loudly.
        gatewayMetrics.inbound.inc({ network, kind: context.kind, outcome: 'lost' });
        logger().error({ err: error, what: context.what, id: context.id }, 'could not publish to JetStream');
        onFailure?.();
      });
  }
}

/** /health/ready: whether the network adapter can deliver. Gateways subclass it to name the check. */
@Injectable()
export class NetworkHealthIndicator {
  constructor(private readonly gateway: GatewayRuntime) {}

  async check(): Promise<{ ok: boolean; detail?: string }> {
    const { adapter } = this.gateway;
    gatewayMetrics.online.set({ network: this.gateway.network }, adapter.isOnline ? 1 : 0);
    return adapter.isOnline ? { ok: true } : { ok: false, detail: `${adapter.network}: ${adapter.status}` };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
