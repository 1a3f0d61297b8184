/**
 * The durable consumer of `owner-conferences-closed` facts (OWNER_EVENTS, published by
 * conference-core once a deleted owner's conferences are closed): deletes those conferences'
 * archive — every message and notice, and their settings (docs/archive.md, "Deleting an owner").
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamBus, type DurableConsumer } from '@parley/bus';
import { ownerConsumers, ownerSubjects, streams } from '@parley/contracts';
import { logger } from '@parley/observability';
import { ArchiveStore } from '../archive/archive-store.js';

@Injectable()
export class OwnerConferencesConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer<ReturnType<typeof streams.ownerEvents>['schema']> | undefined;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly store: ArchiveStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.bus.consume({
      stream: streams.ownerEvents(),
      durable: ownerConsumers.archive,
      filterSubject: ownerSubjects.conferencesClosedAll(),
      handler: async (event) => {
        if (event.type !== 'owner-conferences-closed') return;
        const deleted = await this.store.forgetConferences(event.conferenceIds);
        logger().info(
          { ownerId: event.ownerId, conferences: event.conferenceIds.length, deleted },
          "deleted owner's archive removed",
        );
      },
      maxDeliver: 20,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }
}
