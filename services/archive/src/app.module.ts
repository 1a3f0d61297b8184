/** Wires the archive service: every accepted message and notice of every conference, by (conference, seq). */
import { Module, type DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import { DatabaseHealthIndicator, PersistenceModule } from '@parley/persistence';
import { HealthModule } from '@parley/runtime';
import { ArchiveModule } from './archive/archive.module.js';
import { migrations } from './migrations/index.js';
import type { Config } from './config.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot({
          service: 'archive',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        PersistenceModule.forRoot({
          url: config.PARLEY_DATABASE_URL,
          schema: config.PARLEY_DATABASE_SCHEMA,
          entities: [],
          migrations,
        }),
        HealthModule.forRoot('archive', [BusHealthIndicator, DatabaseHealthIndicator]),
        ArchiveModule.forRoot(config),
      ],
    };
  }
}
