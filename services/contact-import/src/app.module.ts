/** Wires the contact-import service: Contact import jobs and saved contact lists. */
import { Module, type DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import { DatabaseHealthIndicator, PersistenceModule } from '@parley/persistence';
import { migrations } from './migrations/index.js';
import { HealthModule } from '@parley/runtime';
import type { Config } from './config.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot({
          service: 'contact-import',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        PersistenceModule.forRoot({
          url: config.PARLEY_DATABASE_URL,
          schema: config.PARLEY_DATABASE_SCHEMA,
          entities: [],
          migrations,
        }),
        HealthModule.forRoot('contact-import', [BusHealthIndicator, DatabaseHealthIndicator]),
      ],
    };
  }
}
