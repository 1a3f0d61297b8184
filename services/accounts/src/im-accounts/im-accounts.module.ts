/** IM accounts: stored per owner, passwords sealed under the configured key ring. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '../config.js';
import { keyRingFromConfig, KeyRing } from '../secrets/key-ring.js';
import { ImAccountsHandler } from './im-accounts.handler.js';
import { ImAccountsService } from './im-accounts.service.js';

@Module({})
export class ImAccountsModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: ImAccountsModule,
      controllers: [ImAccountsHandler],
      providers: [ImAccountsService, { provide: KeyRing, useFactory: () => keyRingFromConfig(config) }],
    };
  }
}
