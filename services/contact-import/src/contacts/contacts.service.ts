/** The owner's saved contacts: list with filters, resolve ids (for invitations), "is this a contact?". */
import { Injectable } from '@nestjs/common';
import { normalizeAddress, type ContactView, type Network } from '@parley/contracts';
import { ContactsStore } from './contacts.store.js';

@Injectable()
export class ContactsService {
  constructor(private readonly store: ContactsStore) {}

  list(ownerId: string, filter: { network?: Network; group?: string; q?: string; limit: number }) {
    return this.store.list(ownerId, filter);
  }

  /** The owner's contacts among `ids`; unknown ids and other owners' are absent from the answer. */
  resolve(ownerId: string, ids: string[]): Promise<ContactView[]> {
    return this.store.byIds(ownerId, [...new Set(ids)]);
  }

  async isContact(
    ownerId: string,
    network: Network,
    address: string,
  ): Promise<{ isContact: boolean; displayName?: string }> {
    const contact = await this.store.byAddress(ownerId, network, normalizeAddress(network, address));
    if (!contact) return { isContact: false };
    return { isContact: true, ...(contact.name ? { displayName: contact.name } : {}) };
  }

  /** The owners with `address` among their saved contacts. */
  async ownersWithContact(network: Network, address: string): Promise<{ ownerIds: string[] }> {
    return { ownerIds: await this.store.ownersWithContact(network, normalizeAddress(network, address)) };
  }
}
