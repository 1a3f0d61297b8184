/** Wires the presence service: aggregated presence per identity, kept in a NATS KV bucket. */
import { Module, type DynamicModule } from '@nestjs/common';
import { platformModules } from '@parley/runtime';
import type { Config } from './config.js';
import { PresenceModule } from './presence/presence.module.js';
import { PresenceStoreHealthIndicator } from './presence/presence-store.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...platformModules('presence', config, { checks: [PresenceStoreHealthIndicator] }),
        PresenceModule.forRoot({
          concurrency: config.PARLEY_PRESENCE_CONCURRENCY,
          cacheSize: config.PARLEY_PRESENCE_CACHE_SIZE,
          retentionMs: config.PARLEY_PRESENCE_RETENTION_HOURS * 3_600_000,
        }),
      ],
    };
  }
}
