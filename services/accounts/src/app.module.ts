/** Wires the accounts service: owners, e-mail confirmations and IM accounts (credentials encrypted). */
import { Module, type DynamicModule } from '@nestjs/common';
import { platformModules } from '@parley/runtime';
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
        ...platformModules('accounts', config, { database: { entities, migrations } }),
        OwnersModule.forRoot(config),
        ImAccountsModule.forRoot(config),
      ],
    };
  }
}
