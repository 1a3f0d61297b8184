/**
 * The runtime every gateway shares, around one network adapter: IM_OUTBOUND fan-out deliveries are
 * consumed durably with one lane per conference (a conference's deliveries in decided order, other
 * conferences' in parallel, so one slow conference or recipient holds up no other conference),
 * expanded into one send per recipient (all recipients of a fan-out in flight at once), rate
 * limited per recipient, de-duplicated per recipient, and acked only after the adapter says the
 * network accepted every one (a failure is retried, skipping the recipients already served; the
 * network being away is waited out). Inbound events and presence are published to JetStream in the
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
} from '@parley/bus';
import {
  conferencesRpc,
  consumers,
  deliveryFor,
  newEnvelope,
  streams,
  subjects,
  type BotInfo,
  type ImDeliveryV1,
  type ImDeliveryV2,
  type Network,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { Reconnector } from './backoff.js';
import { BoundedMap, BoundedSet } from './bounded-set.js';
import { gatewayMetrics } from './metrics.js';
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
}

/** How many recent per-recipient delivery ids are remembered, to skip what a retry already served. */
const SENT_MEMORY = 100_000;
/** Fan-out deliveries in hand at once (across all conference lanes). */
const IN_FLIGHT = 256;

@Injectable()
export class GatewayRuntime implements OnApplicationBootstrap, OnModuleDestroy, GatewayPort {
  readonly adapter: NetworkAdapter;
  readonly network: Network;
  private consumer: DurableConsumer<ReturnType<typeof streams.imOutbound>['schema']> | undefined;
  /** Publishes are chained so JetStream stores them in the order the network delivered them. */
  private publishing: Promise<unknown> = Promise.resolve();
  private readonly sent = new BoundedSet<string>(SENT_MEMORY);
  private readonly lastPresence = new BoundedMap<string, string>(SENT_MEMORY);
  private readonly limiter: RateLimiter;
  private connector: Reconnector | undefined;
  /** Per-sender inbound rate (see senderMayWrite). */
  private readonly senders: RateLimiter;
  private readonly toldTooFast = new BoundedSet<string>(SENT_MEMORY);

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
    this.connector = new Reconnector(`connecting to ${this.network}`, () => this.adapter.connect(), {
      initialMs: 500,
      maxMs: 15_000,
    });
    this.connector.lost();
    this.consumer = await this.bus.consume({
      stream: streams.imOutbound(),
      durable: consumers.gatewayOutbound(this.network),
      filterSubject: subjects.imOutbound(this.network),
      handler: (delivery) => this.deliver(delivery),
      // A conference's backlog goes out pipelined: every send issued in order, awaited together.
      batchHandler: (deliveries) => this.deliverBatch(deliveries),
      maxBatch: 64,
      // A conference's deliveries in the order conference-core decided them; conferences in parallel.
      laneOf: (delivery) => delivery.conferenceId,
      maxAckPending: IN_FLIGHT,
      maxDeliver: this.options.maxDeliver ?? 10,
      backoffMs: this.options.backoffMs ?? [200, 1_000, 5_000, 15_000],
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.connector?.stop();
    await this.consumer?.stop();
    await this.publishing;
    await this.adapter.stop();
  }

  /**
   * Serves every recipient of a fan-out not served yet, all in flight at once. Resolves when each
   * was accepted by the network (or is undeliverable: logged and dropped); throws when any failed,
   * so the fan-out is retried for those alone.
   */
  private async deliver(fanOut: ImDeliveryV2): Promise<void> {
    const { network } = this;
    if (!this.adapter.isOnline) throw new DependencyUnavailable(`${network} is ${this.adapter.status}`);
    const pending = fanOut.recipients.filter((to) => {
      if (!this.sent.has(`${fanOut.deliveryId}:${to}`)) return true;
      gatewayMetrics.deliveries.inc({ network, outcome: 'duplicate' });
      return false;
    });
    const results = await Promise.allSettled(pending.map((to) => this.deliverOne(deliveryFor(fanOut, to))));
    gatewayMetrics.online.set({ network }, this.adapter.isOnline ? 1 : 0);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length === 0) return;
    if (!this.adapter.isOnline) throw new DependencyUnavailable(`${network} is ${this.adapter.status}`);
    throw failed[0]!.reason;
  }

  /**
   * A lane's backlog at once: the fan-outs are started in order, so each recipient's sends are
   * issued in the lane's order (one connection writes them in that order), and awaited together —
   * one round of waiting for many fan-outs instead of one each. Settled before it throws, so a
   * retry one by one never races a send still in flight.
   */
  private async deliverBatch(fanOuts: ImDeliveryV2[]): Promise<void> {
    const results = await Promise.allSettled(fanOuts.map((fanOut) => this.deliver(fanOut)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async deliverOne(delivery: ImDeliveryV1): Promise<void> {
    const { network } = this;
    // Only time actually held back by a bucket counts (event-loop delay is not rate limiting).
    const waited = await this.limiter.take(delivery.to);
    if (waited > 0) gatewayMetrics.rateLimitedSeconds.inc({ network }, waited / 1000);
    try {
      if (delivery.kind === 'authorization-request') await this.adapter.requestAuthorization(delivery);
      else await this.adapter.deliver(delivery);
    } catch (error) {
      if (error instanceof UndeliverableError) {
        gatewayMetrics.deliveries.inc({ network, outcome: 'undeliverable' });
        logger().warn(
          { err: error.message, deliveryId: delivery.deliveryId, to: delivery.to },
          'undeliverable; dropped',
        );
        this.sent.add(delivery.deliveryId);
        return;
      }
      gatewayMetrics.deliveries.inc({ network, outcome: 'failed' });
      throw error;
    }
    gatewayMetrics.deliveries.inc({ network, outcome: 'sent' });
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

  async joinableBy(address: string): Promise<BotInfo[]> {
    return (await this.rpc.call(conferencesRpc.forAddress, { network: this.network, address })).conferences;
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
