/** Wires the accounts service: owners, e-mail confirmations and IM accounts (credentials encrypted). */
import { Module, type DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import { DatabaseHealthIndicator, PersistenceModule } from '@parley/persistence';
import { HealthModule } from '@parley/runtime';
import type { Config } from './config.js';
import { entities } from './entities.js';
import { ImAccountsModule } from './im-accounts/im-accounts.module.js';
import { migrations } from './migrations/index.js';
import { OwnersModule } from './owners/owners.module.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot({
          service: 'accounts',
          natsUrl: config.PARLEY_NATS_URL,
          replicas: config.PARLEY_STREAM_REPLICAS,
        }),
        PersistenceModule.forRoot({
          url: config.PARLEY_DATABASE_URL,
          schema: config.PARLEY_DATABASE_SCHEMA,
          entities,
          migrations,
        }),
        HealthModule.forRoot('accounts', [BusHealthIndicator, DatabaseHealthIndicator]),
        OwnersModule.forRoot(config),
        ImAccountsModule.forRoot(config),
      ],
    };
  }
}
