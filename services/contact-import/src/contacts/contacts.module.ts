/** Saved contacts and the import jobs that fill them. */
import { Module } from '@nestjs/common';
import { ImportService } from '../imports/import.service.js';
import { ContactsController } from './contacts.controller.js';
import { ContactsService } from './contacts.service.js';
import { ContactsStore } from './contacts.store.js';

@Module({
  controllers: [ContactsController],
  providers: [ContactsStore, ContactsService, ImportService],
})
export class ContactsModule {}
