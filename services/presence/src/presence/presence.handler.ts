/**
 * Transport edge for gateways' presence updates: pull loops on the one durable consumer of
 * PRESENCE_UPDATES (shared with every other replica), each handing one validated update at a
 * time to the service; the message is acked once the service returned (state written, change
 * published).
 */
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { JetStreamBus, type DurableConsumer } from '@parley/bus';
import { consumers, streams } from '@parley/contracts';
import { PresenceService } from './presence.service.js';

export const PRESENCE_HANDLER_OPTIONS = Symbol('PRESENCE_HANDLER_OPTIONS');

export interface PresenceHandlerOptions {
  /** Pull loops in this replica (updates handled at once). */
  concurrency: number;
}

@Injectable()
export class PresenceUpdatesHandler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private loops: Array<DurableConsumer<ReturnType<typeof streams.presenceUpdates>['schema']>> = [];

  constructor(
    private readonly bus: JetStreamBus,
    private readonly presence: PresenceService,
    @Inject(PRESENCE_HANDLER_OPTIONS) private readonly options: PresenceHandlerOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Order between updates is not needed (per-resource occurredAt decides, see docs/presence.md),
    // so several loops may share the durable consumer, exactly as several replicas do.
    for (let i = 0; i < this.options.concurrency; i++) {
      this.loops.push(
        await this.bus.consume({
          stream: streams.presenceUpdates(),
          durable: consumers.presenceUpdates,
          maxAckPending: Math.max(1_000, this.options.concurrency * 128),
          handler: (update) => this.presence.applyUpdate(update),
        }),
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    const loops = this.loops;
    this.loops = [];
    await Promise.all(loops.map((loop) => loop.stop()));
  }
}
