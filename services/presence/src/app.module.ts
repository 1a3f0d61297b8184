/** Wires the presence service: aggregated presence per identity, kept in a NATS KV bucket. */
import { Module, type DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import { HealthModule } from '@parley/runtime';
import type { Config } from './config.js';
import { PresenceModule } from './presence/presence.module.js';
import { PresenceStoreHealthIndicator } from './presence/presence-store.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot({
          service: 'presence',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        PresenceModule.forRoot({
          concurrency: config.PARLEY_PRESENCE_CONCURRENCY,
          cacheSize: config.PARLEY_PRESENCE_CACHE_SIZE,
        }),
        HealthModule.forRoot('presence', [BusHealthIndicator, PresenceStoreHealthIndicator]),
      ],
    };
  }
}
