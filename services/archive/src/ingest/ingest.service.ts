/**
 * Archives CONF_EVENTS: runs the durable, batching consumer (`archive-events`) that stores every
 * accepted message and notice by (conference, seq). Storing is idempotent, so redeliveries are harmless.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamBus, type DurableConsumer } from '@parley/bus';
import type { streams } from '@parley/contracts';
import { logger } from '@parley/observability';
import { ArchiveStore } from '../archive/archive-store.js';
import { ARCHIVE_CONFIG } from '../archive/archive.tokens.js';
import type { Config } from '../config.js';
import { consumeConferenceEvents } from './conference-events.consumer.js';

@Injectable()
export class IngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer<ReturnType<typeof streams.confEvents>['schema']> | undefined;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly store: ArchiveStore,
    @Inject(ARCHIVE_CONFIG) private readonly config: Config,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await consumeConferenceEvents(this.bus, this.store, {
      batchSize: this.config.PARLEY_ARCHIVE_BATCH_SIZE,
      lingerMs: this.config.PARLEY_ARCHIVE_LINGER_MS,
      ackWaitMs: this.config.PARLEY_ARCHIVE_ACK_WAIT_MS,
    });
    logger().info({ batchSize: this.config.PARLEY_ARCHIVE_BATCH_SIZE }, 'archiving conference events');
  }

  /** Before the bus closes (onApplicationShutdown): finish the batches in progress, hand back the rest. */
  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }
}
