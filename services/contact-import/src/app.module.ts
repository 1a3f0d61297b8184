/** Wires the contact-import service: Contact import jobs and saved contact lists. */
import { Module, type DynamicModule } from '@nestjs/common';
import { ContactsModule } from './contacts/contacts.module.js';
import { migrations } from './migrations/index.js';
import { platformModules } from '@parley/runtime';
import type { Config } from './config.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...platformModules('contact-import', config, { database: { entities: [], migrations } }),
        ContactsModule,
      ],
    };
  }
}
