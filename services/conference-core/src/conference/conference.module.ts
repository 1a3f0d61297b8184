/**
 * Conferences, participants, the bot rules, the inbound and presence consumers, the outbox relay,
 * the offline-delivery queue, the time-to-live scheduler and the pruning of what is kept for nobody.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Network } from '@parley/contracts';
import { OFFLINE_QUEUE, type OfflineQueueOptions } from '../offline/offline-queue.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { OwnerConferencesService } from '../owners/owner-conferences.service.js';
import { OwnerDeletedConsumer } from '../owners/owner-deleted.consumer.js';
import { PresenceConsumer } from '../presence/presence.consumer.js';
import { PresenceLookup } from '../presence/presence-lookup.js';
import { PresenceChangeService } from '../presence/presence-change.service.js';
import { PruningScheduler } from '../pruning/pruning.scheduler.js';
import { TimeToLiveService } from '../ttl/time-to-live.service.js';
import { TTL_CHECK_MS, TtlScheduler } from '../ttl/ttl.scheduler.js';
import { BotDirectoryService } from './bot-directory.service.js';
import { ConferenceController } from './conference.controller.js';
import { BOT_SUFFIX, ConferenceStore } from './conference.store.js';
import { INVITATION_POLICY, UNVERIFIED_NETWORKS, invitationPolicy } from './invitation-policy.js';
import { InboundService } from './inbound.service.js';
import { OwnerCommandsService } from './owner-commands.service.js';
import { SeqFloor } from './seq-floor.js';
import { InboundConsumer } from './inbound.consumer.js';

export interface ConferenceModuleOptions {
  botSuffix: string;
  offlineQueueNetworks: ReadonlySet<Network>;
  offlineQueueCap: number;
  /** Networks whose participants cannot prove who they are (shown as unverified). */
  unverifiedNetworks: ReadonlySet<Network>;
  ttlCheckMs: number;
  invitations: {
    xmppComponentDomain: string;
    ircPoolNick: string;
    perParticipant: number;
    byParticipants: number;
  };
}

@Module({})
export class ConferenceModule {
  static forRoot(options: ConferenceModuleOptions): DynamicModule {
    const offlineQueue: OfflineQueueOptions = {
      networks: options.offlineQueueNetworks,
      cap: options.offlineQueueCap,
    };
    return {
      module: ConferenceModule,
      controllers: [ConferenceController],
      providers: [
        { provide: BOT_SUFFIX, useValue: options.botSuffix },
        { provide: OFFLINE_QUEUE, useValue: offlineQueue },
        { provide: TTL_CHECK_MS, useValue: options.ttlCheckMs },
        { provide: UNVERIFIED_NETWORKS, useValue: options.unverifiedNetworks },
        { provide: INVITATION_POLICY, useValue: invitationPolicy(options.invitations) },
        ConferenceStore,
        SeqFloor,
        OwnerCommandsService,
        BotDirectoryService,
        InboundService,
        PresenceChangeService,
        TimeToLiveService,
        PresenceLookup,
        OutboxRelay,
        InboundConsumer,
        PresenceConsumer,
        TtlScheduler,
        PruningScheduler,
        OwnerConferencesService,
        OwnerDeletedConsumer, // issue 13: owner deletion (owners/)
      ],
    };
  }
}
