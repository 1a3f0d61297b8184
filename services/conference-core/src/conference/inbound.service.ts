/**
 * What a participant (or a stranger) sends to a bot: one inbound IM event, applied exactly once —
 * look up what a command needs from other services (no lock held while waiting), then load the
 * conference locked → decide (conference-rules.ts) → record, with the inbox claim in the same
 * transaction.
 */
import { Injectable } from '@nestjs/common';
import { RpcClient } from '@parley/bus';
import {
  archiveHistoryCommandRpc,
  archiveSearchCommandRpc,
  conferenceIdSchema,
  consumers,
  normalizeAddress,
  type ImInboundV1,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { parseCommand } from '../commands/parse-command.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { PresenceLookup } from '../presence/presence-lookup.js';
import { decideInbound, type CommandLookups } from './conference-rules.js';
import { ConferenceStore } from './conference.store.js';

/** The archive answers the bot's /history and /search; the conference's lane waits for it. */
const ARCHIVE_TIMEOUT_MS = 5_000;

@Injectable()
export class InboundService {
  constructor(
    private readonly store: ConferenceStore,
    private readonly relay: OutboxRelay,
    private readonly rpc: RpcClient,
    private readonly presenceLookup: PresenceLookup,
  ) {}

  async handleInbound(inbound: ImInboundV1): Promise<void> {
    if (!conferenceIdSchema.safeParse(inbound.conferenceId).success) {
      // Gateways only publish valid bot addresses; anything else cannot be answered as a bot.
      logger().warn(
        { conferenceId: inbound.conferenceId, id: inbound.id },
        'inbound event for an invalid conference id',
      );
      return;
    }
    // A redelivery simply asks again.
    const lookups = await this.lookupsFor(inbound);
    await this.store.transaction(async (tx) => {
      if (!(await this.store.claim(tx, consumers.conferenceCoreInbound, inbound.id))) return;
      const loaded = await this.store.loadLocked(tx, inbound.conferenceId);
      const decision = decideInbound(loaded?.facts ?? null, loaded?.roster ?? [], inbound, {
        now: new Date(),
        isOwnerContact: false, // owner contacts arrive with the contact-import issue
        lookups,
      });
      await this.store.record(tx, loaded, inbound.conferenceId, decision, inbound.id);
    });
    this.relay.kick();
  }

  /** What /history, /search, /list status and /list active need from the archive or presence. */
  private async lookupsFor(inbound: ImInboundV1): Promise<CommandLookups> {
    if (inbound.kind !== 'message') return {};
    const parsed = parseCommand(inbound.body);
    if (parsed.kind !== 'command') return {};
    const command = parsed.command;
    const conferenceId = inbound.conferenceId;
    const participant = {
      network: inbound.network,
      address: normalizeAddress(inbound.network, inbound.from),
    };
    const askArchive = async (ask: () => Promise<{ messages: string[] }>) => {
      try {
        return (await ask()).messages;
      } catch (error) {
        logger().warn({ err: error, conferenceId, command: command.name }, 'archive did not answer');
        return null;
      }
    };
    switch (command.name) {
      case 'history':
        return {
          archive: await askArchive(() =>
            this.rpc.call(
              archiveHistoryCommandRpc,
              { conferenceId, participant, args: command.args.slice(0, 200) },
              ARCHIVE_TIMEOUT_MS,
            ),
          ),
        };
      case 'search':
        return {
          archive: await askArchive(() =>
            this.rpc.call(
              archiveSearchCommandRpc,
              { conferenceId, args: command.query.slice(0, 500) },
              ARCHIVE_TIMEOUT_MS,
            ),
          ),
        };
      case 'list': {
        if (command.filter === 'all') return {};
        const identities = await this.store.identities(conferenceId);
        return { presence: identities.length > 0 ? await this.presenceLookup.query(identities) : new Map() };
      }
      default:
        return {};
    }
  }
}
