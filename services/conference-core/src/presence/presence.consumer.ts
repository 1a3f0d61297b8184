/**
 * The durable PRESENCE_CHANGES consumer: keeps conference-core's view of who is offline (for the
 * time-to-live and offline delivery) and releases queued deliveries when someone comes back.
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamBus, type DurableConsumer } from '@parley/bus';
import { consumers, streams } from '@parley/contracts';
import { PresenceChangeService } from './presence-change.service.js';

@Injectable()
export class PresenceConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer<ReturnType<typeof streams.presenceChanges>['schema']> | undefined;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly changes: PresenceChangeService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.bus.consume({
      stream: streams.presenceChanges(),
      durable: consumers.conferenceCorePresence,
      handler: (event) => this.changes.handlePresenceChange(event),
      // One identity's changes one at a time; different identities in parallel.
      laneOf: (event) => `${event.network}:${event.address}`,
      maxAckPending: 64,
      // Changes may arrive out of order anyway (presence replicas); the view keeps the newest.
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }
}
