/** The RPC edge of contact-import: contacts.* (list, resolve, isContact, ownersWithContact) and imports.* (start, get, events). */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { contactsRpc, rpcSubject } from '@parley/contracts';
import { ImportService } from '../imports/import.service.js';
import { ContactsService } from './contacts.service.js';

@Controller()
export class ContactsController {
  constructor(
    private readonly contacts: ContactsService,
    private readonly imports: ImportService,
  ) {}

  @MessagePattern(rpcSubject(contactsRpc.list))
  list(@Payload() payload: unknown) {
    return answerRpc(contactsRpc.list, payload, async ({ ownerId, ...filter }) => ({
      items: await this.contacts.list(ownerId, filter),
    }));
  }

  @MessagePattern(rpcSubject(contactsRpc.resolve))
  resolve(@Payload() payload: unknown) {
    return answerRpc(contactsRpc.resolve, payload, async (req) => ({
      contacts: await this.contacts.resolve(req.ownerId, req.contactIds),
    }));
  }

  @MessagePattern(rpcSubject(contactsRpc.isContact))
  isContact(@Payload() payload: unknown) {
    return answerRpc(contactsRpc.isContact, payload, (req) =>
      this.contacts.isContact(req.ownerId, req.network, req.address),
    );
  }

  @MessagePattern(rpcSubject(contactsRpc.ownersWithContact))
  ownersWithContact(@Payload() payload: unknown) {
    return answerRpc(contactsRpc.ownersWithContact, payload, (req) =>
      this.contacts.ownersWithContact(req.network, req.address),
    );
  }

  @MessagePattern(rpcSubject(contactsRpc.startImport))
  startImport(@Payload() payload: unknown) {
    return answerRpc(contactsRpc.startImport, payload, (req) =>
      this.imports.start(req.ownerId, req.imAccountId),
    );
  }

  @MessagePattern(rpcSubject(contactsRpc.getImport))
  getImport(@Payload() payload: unknown) {
    return answerRpc(contactsRpc.getImport, payload, (req) => this.imports.get(req.ownerId, req.jobId));
  }

  @MessagePattern(rpcSubject(contactsRpc.importEvents))
  importEvents(@Payload() payload: unknown) {
    return answerRpc(contactsRpc.importEvents, payload, async (req) => ({
      events: await this.imports.events(req.ownerId, req.jobId),
    }));
  }
}
