/**
 * The durable consumer of `owner-deleted` facts (OWNER_EVENTS, published by accounts when an owner
 * deletes their account): closes all of that owner's conferences.
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamBus, type DurableConsumer } from '@parley/bus';
import { ownerConsumers, ownerSubjects, streams } from '@parley/contracts';
import { OwnerConferencesService } from './owner-conferences.service.js';

@Injectable()
export class OwnerDeletedConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer<ReturnType<typeof streams.ownerEvents>['schema']> | undefined;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly owners: OwnerConferencesService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.bus.consume({
      stream: streams.ownerEvents(),
      durable: ownerConsumers.conferenceCore,
      filterSubject: ownerSubjects.deletedAll(),
      handler: async (event) => {
        if (event.type === 'owner-deleted') await this.owners.closeAllOf(event.ownerId);
      },
      // Closing waits out a database restart (backoff up to 15 s), like the inbound consumer.
      maxDeliver: 20,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }
}
