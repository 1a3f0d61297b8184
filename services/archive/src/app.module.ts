/** Wires the archive service: every accepted message and notice of every conference, by (conference, seq). */
import { Module, type DynamicModule } from '@nestjs/common';
import { platformModules } from '@parley/runtime';
import { ArchiveModule } from './archive/archive.module.js';
import { migrations } from './migrations/index.js';
import type { Config } from './config.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...platformModules('archive', config, { database: { entities: [], migrations } }),
        ArchiveModule.forRoot(config),
      ],
    };
  }
}
