/**
 * The gateway's bus plumbing around the XMPP adapter: inbound events and presence go to JetStream
 * in the order the server delivered them; IM_OUTBOUND deliveries are consumed durably and acked
 * only after the adapter wrote the stanzas; bot look-ups are RPCs to conference-core.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DomainError, JetStreamBus, RpcClient, type DurableConsumer } from '@parley/bus';
import {
  conferencesRpc,
  consumers,
  newEnvelope,
  streams,
  subjects,
  type BotInfo,
  type ImDeliveryV1,
} from '@parley/contracts';
import { logger, retry } from '@parley/observability';
import {
  XmppAdapter,
  type AdapterPort,
  type InboundDraft,
  type PresenceDraft,
  type XmppAdapterOptions,
} from '../xmpp/xmpp-adapter.js';

export const ADAPTER_OPTIONS = Symbol('ADAPTER_OPTIONS');

/** How many recent delivery ids are remembered, to skip a redelivery whose ack was lost. */
const SENT_MEMORY = 10_000;

@Injectable()
export class GatewayService implements OnApplicationBootstrap, OnModuleDestroy, AdapterPort {
  readonly adapter: XmppAdapter;
  private consumer: DurableConsumer<ReturnType<typeof streams.imOutbound>['schema']> | undefined;
  /** Publishes are chained so JetStream stores them in the order the XMPP server delivered them. */
  private publishing: Promise<unknown> = Promise.resolve();
  private readonly sent = new Set<string>();
  private readonly lastPresence = new Map<string, string>();

  constructor(
    @Inject(ADAPTER_OPTIONS) options: XmppAdapterOptions,
    private readonly bus: JetStreamBus,
    private readonly rpc: RpcClient,
  ) {
    this.adapter = new XmppAdapter(options, this);
  }

  async onApplicationBootstrap(): Promise<void> {
    await retry('connecting the XMPP component', () => this.adapter.start());
    this.consumer = await this.bus.consume({
      stream: streams.imOutbound(),
      durable: consumers.gatewayOutbound('xmpp'),
      filterSubject: subjects.imOutbound('xmpp'),
      handler: (delivery) => this.deliver(delivery),
      // One at a time: each recipient sees deliveries in the order conference-core decided them.
      maxAckPending: 1,
      // While the XMPP server is away, keep retrying rather than dead-lettering (≈ 25 min).
      maxDeliver: 100,
      backoffMs: [200, 1_000, 5_000, 15_000],
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
    await this.publishing;
    await this.adapter.stop();
  }

  private async deliver(delivery: ImDeliveryV1): Promise<void> {
    if (this.sent.has(delivery.deliveryId)) return;
    await this.adapter.deliver(delivery);
    this.sent.add(delivery.deliveryId);
    if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.values().next().value!);
  }

  // ---- AdapterPort --------------------------------------------------------------------------

  inbound(event: InboundDraft): void {
    const message = { ...event, occurredAt: new Date().toISOString() };
    this.chain(
      () => this.bus.publish(streams.imInbound(), subjects.imInbound('xmpp', event.conferenceId), message),
      { what: 'inbound event', id: event.id },
      () => {
        // Not accepted, so not relayed: tell the sender instead of losing it silently.
        if (event.kind !== 'message') return;
        void this.adapter
          .deliver({
            ...newEnvelope(),
            deliveryId: `${event.id}:unavailable`,
            network: 'xmpp',
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

  presence(update: PresenceDraft): void {
    // A user subscribed to several bots sends each one the same presence: publish changes only.
    const key = `${update.address}/${update.resource}`;
    const value = `${update.show}|${update.status ?? ''}`;
    if (this.lastPresence.get(key) === value) return;
    this.lastPresence.set(key, value);
    if (this.lastPresence.size > SENT_MEMORY)
      this.lastPresence.delete(this.lastPresence.keys().next().value!);
    const message = { ...newEnvelope(), network: 'xmpp' as const, ...update };
    this.chain(() => this.bus.publish(streams.presenceUpdates(), subjects.presenceUpdate('xmpp'), message), {
      what: 'presence update',
      id: message.id,
    });
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
    return (await this.rpc.call(conferencesRpc.forAddress, { network: 'xmpp', address })).conferences;
  }

  private chain(
    publish: () => Promise<unknown>,
    context: { what: string; id: string },
    onFailure?: () => void,
  ): void {
    this.publishing = this.publishing.then(publish).catch((error: unknown) => {
      // bus.publish already retried; the XMPP server will not resend, so this one is lost: say so loudly.
      logger().error({ err: error, ...context }, 'could not publish to JetStream');
      onFailure?.();
    });
  }
}
