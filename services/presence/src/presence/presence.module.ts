/** The presence capability: KV bucket, update handler, change publishing and batch queries. */
import { Module, type DynamicModule } from '@nestjs/common';
import { BUS_OPTIONS, JetStreamBus, type BusModuleOptions } from '@parley/bus';
import { presenceController } from './presence.controller.js';
import { PRESENCE_HANDLER_OPTIONS, PresenceUpdatesHandler } from './presence.handler.js';
import { PresenceService } from './presence.service.js';
import { PRESENCE_PRUNING_OPTIONS, PresencePruner } from './presence-pruning.scheduler.js';
import {
  PRESENCE_KV,
  PRESENCE_STORE_OPTIONS,
  PresenceStore,
  PresenceStoreHealthIndicator,
  openPresenceBucket,
} from './presence-store.js';

export interface PresenceModuleOptions {
  concurrency: number;
  cacheSize: number;
  /** Offline records untouched this long are deleted (presence-pruning.scheduler.ts). */
  retentionMs: number;
}

@Module({})
export class PresenceModule {
  static forRoot(options: PresenceModuleOptions): DynamicModule {
    return {
      module: PresenceModule,
      controllers: [presenceController()],
      providers: [
        {
          provide: PRESENCE_KV,
          inject: [JetStreamBus, BUS_OPTIONS],
          useFactory: (bus: JetStreamBus, busOptions: BusModuleOptions) =>
            openPresenceBucket(bus, busOptions.replicas ?? 1),
        },
        { provide: PRESENCE_STORE_OPTIONS, useValue: { cacheSize: options.cacheSize } },
        { provide: PRESENCE_HANDLER_OPTIONS, useValue: { concurrency: options.concurrency } },
        { provide: PRESENCE_PRUNING_OPTIONS, useValue: { retentionMs: options.retentionMs } },
        PresencePruner,
        PresenceStore,
        PresenceStoreHealthIndicator,
        PresenceService,
        PresenceUpdatesHandler,
      ],
      exports: [PresenceStoreHealthIndicator, PresenceService],
    };
  }
}
