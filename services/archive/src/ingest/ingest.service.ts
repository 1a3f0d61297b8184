/**
 * Archives CONF_EVENTS: a durable, batching consumer (`archive-events`) that stores every accepted
 * message and notice by (conference, seq). Storing is idempotent, so redeliveries are harmless.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamBus } from '@parley/bus';
import { consumers, streams, type ConferenceEventV1 } from '@parley/contracts';
import { logger } from '@parley/observability';
import { ArchiveStore } from '../archive/archive-store.js';
import { ARCHIVE_CONFIG } from '../archive/archive.tokens.js';
import type { Config } from '../config.js';
import { BatchingConsumer } from './batching-consumer.js';

@Injectable()
export class IngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: BatchingConsumer<ReturnType<typeof streams.confEvents>['schema']> | undefined;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly store: ArchiveStore,
    @Inject(ARCHIVE_CONFIG) private readonly config: Config,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new BatchingConsumer(this.bus, {
      stream: streams.confEvents(),
      durable: consumers.archiveEvents,
      batchSize: this.config.PARLEY_ARCHIVE_BATCH_SIZE,
      flushMs: this.config.PARLEY_ARCHIVE_FLUSH_MS,
      ackWaitMs: this.config.PARLEY_ARCHIVE_ACK_WAIT_MS,
      handler: (events: ConferenceEventV1[]) => this.store.insertEvents(events).then(() => undefined),
      // While PostgreSQL is down, events wait in the stream instead of being dead-lettered.
      isOutage: async () => !(await this.store.isReachable()),
    });
    await this.consumer.start();
    logger().info({ batchSize: this.config.PARLEY_ARCHIVE_BATCH_SIZE }, 'archiving conference events');
  }

  /** Before the bus closes (onApplicationShutdown): store and ack what is buffered. */
  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }
}
