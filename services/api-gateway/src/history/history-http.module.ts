/** The owners' REST surface backed by the archive: history pages, search and NDJSON export. */
import { Module } from '@nestjs/common';
import { HistoryController } from './history.controller.js';

@Module({ controllers: [HistoryController] })
export class HistoryHttpModule {}
