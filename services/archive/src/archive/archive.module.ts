/**
 * The archive's capabilities: ingest of CONF_EVENTS, queries and settings, bot commands, retention,
 * and forgetting a deleted owner's conferences.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import { HistoryController } from '../history/history.controller.js';
import { HistoryService } from '../history/history.service.js';
import { IngestService } from '../ingest/ingest.service.js';
import { OwnerConferencesConsumer } from '../owners/owner-conferences.consumer.js';
import { RetentionService } from '../retention/retention.service.js';
import { ArchiveController } from './archive.controller.js';
import { ArchiveStore } from './archive-store.js';
import { ARCHIVE_CONFIG } from './archive.tokens.js';

@Module({})
export class ArchiveModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: ArchiveModule,
      controllers: [ArchiveController, HistoryController],
      providers: [
        { provide: ARCHIVE_CONFIG, useValue: config },
        { provide: ArchiveStore, inject: [DataSource], useFactory: (db: DataSource) => new ArchiveStore(db) },
        IngestService,
        HistoryService,
        RetentionService,
        OwnerConferencesConsumer,
      ],
      exports: [ArchiveStore, RetentionService, IngestService],
    };
  }
}
