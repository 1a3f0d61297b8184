/** The owners' REST surface backed by contact-import: saved contacts and contact imports. */
import { Module } from '@nestjs/common';
import { ContactsController } from './contacts.controller.js';
import { AccountImportsController, ImportsController } from './imports.controller.js';

@Module({ controllers: [AccountImportsController, ImportsController, ContactsController] })
export class ContactsHttpModule {}
