/**
 * The bot directory the gateways ask: one conference's bot (name, state, policy), and the bots an
 * address may talk to (service discovery, pooled IRC bots), and the active bots of a network's
 * partitions (a gateway bringing the conferences it takes on online).
 */
import { Injectable } from '@nestjs/common';
import { DomainError, RpcClient } from '@parley/bus';
import { contactsRpc, inboundPartition, type BotInfo, type Network } from '@parley/contracts';
import { logger } from '@parley/observability';
import type { ConferenceEntity } from './conference.entity.js';
import { ConferenceStore } from './conference.store.js';

@Injectable()
export class BotDirectoryService {
  constructor(
    private readonly store: ConferenceStore,
    private readonly rpc: RpcClient,
  ) {}

  async forAddress(network: Network, address: string): Promise<{ conferences: BotInfo[] }> {
    // `owner-contacts` conferences are listed for their owners' contacts (one ask for all owners).
    let contactOf: string[] = [];
    try {
      contactOf = (await this.rpc.call(contactsRpc.ownersWithContact, { network, address })).ownerIds;
    } catch (error) {
      logger().warn({ err: error }, 'contact-import did not answer; listing no owner-contacts conferences');
    }
    const conferences = await this.store.joinableBy(network, address, contactOf);
    return { conferences: conferences.map((c) => this.botInfo(c)) };
  }

  /** The bots of the active conferences with participants on a network, in the given partitions. */
  async activeBots(network: Network, partitions: number[]): Promise<{ conferences: BotInfo[] }> {
    const wanted = new Set(partitions);
    const conferences = (await this.store.activeOn(network)).filter((c) =>
      wanted.has(inboundPartition(c.id)),
    );
    return { conferences: conferences.map((c) => this.botInfo(c)) };
  }

  async bot(conferenceId: string): Promise<BotInfo> {
    const entity = await this.store.findConference(conferenceId);
    if (!entity) throw new DomainError('not-found', `conference ${conferenceId} not found`, 'conferenceId');
    return this.botInfo(entity);
  }

  private botInfo(c: Pick<ConferenceEntity, 'id' | 'name' | 'subject' | 'state' | 'joinPolicy'>): BotInfo {
    return {
      conferenceId: c.id,
      name: c.name,
      subject: c.subject,
      botName: this.store.botName(c.name),
      state: c.state,
      joinPolicy: c.joinPolicy,
    };
  }
}
