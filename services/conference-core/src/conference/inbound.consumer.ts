/**
 * The durable IM_INBOUND consumer. maxAckPending 1 keeps one conference's messages in the order the
 * gateways published them, also across redeliveries: relayed order is accepted order. (Several
 * replicas would partition the inbound subjects by conference; see docs/conference-bot.md.)
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamBus, type DurableConsumer } from '@parley/bus';
import { consumers, streams } from '@parley/contracts';
import { ConferenceService } from './conference.service.js';

@Injectable()
export class InboundConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer<ReturnType<typeof streams.imInbound>['schema']> | undefined;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly conferences: ConferenceService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.bus.consume({
      stream: streams.imInbound(),
      durable: consumers.conferenceCoreInbound,
      handler: (event) => this.conferences.handleInbound(event),
      maxAckPending: 1,
      // One event in flight, and the handler heartbeats while it works: a short ack_wait only
      // matters after a crash, when every conference waits for the event that was in hand.
      ackWaitMs: 5_000,
      // ≈ 4 minutes of retries (backoff up to 15 s) ride out a database restart; an event that
      // still fails is dead-lettered (kept for replay) rather than blocking every conference.
      maxDeliver: 20,
    });
  }

  /** Finishes the event in hand before the database connection goes away. */
  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }
}
