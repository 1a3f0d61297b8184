/**
 * What a participant (or a stranger) sends to a bot: one inbound IM event, applied exactly once.
 * Strangers are answered within a budget (reply-budget.ts) and never cost a look-up; for
 * participants, what a command needs from other services is asked first (no lock held while
 * waiting); then load the conference locked → decide (conference-rules.ts) → record, with the inbox
 * claim in the same transaction.
 */
import { Inject, Injectable } from '@nestjs/common';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  archiveHistoryCommandRpc,
  archiveSearchCommandRpc,
  conferenceIdSchema,
  consumers,
  contactsRpc,
  newEnvelope,
  normalizeAddress,
  streams,
  subjects,
  type ImDeliveryV2,
  type ImInboundV1,
  type Network,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { parseCommand } from '../commands/parse-command.js';
import type { InsertedMessage } from '../outbox/outbox.hand-over.js';
import { OutboxRelay, handOverInsert, withOutboxInsert, type OutboxMessage } from '../outbox/outbox.relay.js';
import { PresenceLookup } from '../presence/presence-lookup.js';
import {
  decideInbound,
  mergeDecisions,
  type CommandLookups,
  type InvitationPolicy,
} from './conference-rules.js';
import { ConferenceStore, type Loaded } from './conference.store.js';
import { RosterCache, isStranger } from './roster-cache.js';
import { INVITATION_POLICY, UNVERIFIED_NETWORKS } from './invitation-policy.js';
import { ReplyBudget } from './reply-budget.js';

/** An inbound event with what was looked up for it before its transaction. */
interface Prepared {
  event: ImInboundV1;
  lookups: CommandLookups;
  isOwnerContact: boolean;
  /** Taken for a participant from the conference's last committed roster (RosterCache), not read. */
  fromKnown?: boolean;
}

/** A committed batch: the conference as it left it, and its outbox rows when handed over here. */
interface Decided {
  loaded: Loaded | null;
  /** The unsent rows its transaction saw, and its own rows (null: left to the relay). */
  handOver: { unsent: readonly string[]; outbox: OutboxMessage[] } | null;
}

/** A sender taken for a participant is not one any more: the batch is decided again, read afresh. */
class StaleStanding extends Error {}

/** The archive answers the bot's /history and /search; the conference's lane waits for it. */
const ARCHIVE_TIMEOUT_MS = 5_000;

@Injectable()
export class InboundService {
  private readonly budget = new ReplyBudget();
  private readonly rosters = new RosterCache();

  constructor(
    private readonly store: ConferenceStore,
    private readonly relay: OutboxRelay,
    private readonly rpc: RpcClient,
    private readonly bus: JetStreamBus,
    private readonly presenceLookup: PresenceLookup,
    @Inject(INVITATION_POLICY) private readonly invitations: InvitationPolicy,
    @Inject(UNVERIFIED_NETWORKS) private readonly unverifiedNetworks: ReadonlySet<Network>,
  ) {}

  handleInbound(inbound: ImInboundV1): Promise<void> {
    return this.handleBatch([inbound]);
  }

  /**
   * Several inbound events of one conference (its lane's backlog), in order, in one transaction:
   * claimed together, the conference loaded and locked once, each decided on the roster as the ones
   * before it left it, and recorded once. Per message this saves most of the database round trips
   * that bounded one conference's rate (docs/performance.md).
   */
  async handleBatch(events: ImInboundV1[]): Promise<void> {
    const conferenceId = events[0]!.conferenceId;
    if (!conferenceIdSchema.safeParse(conferenceId).success) {
      // Gateways only publish valid bot addresses; anything else cannot be answered as a bot.
      logger().warn(
        { conferenceId, ids: events.map((e) => e.id) },
        'inbound event for an invalid conference id',
      );
      return;
    }
    try {
      await this.decideBatch(conferenceId, events, true);
    } catch (error) {
      if (!(error instanceof StaleStanding)) throw error;
      // The stale roster was taken out for the failed attempt: this one reads it afresh.
      await this.decideBatch(conferenceId, events, false);
    }
  }

  private async decideBatch(conferenceId: string, events: ImInboundV1[], useKnown: boolean): Promise<void> {
    const prepared: Prepared[] = [];
    for (const event of events) {
      const ready = await this.prepare(event, useKnown);
      if (ready) prepared.push(ready);
    }
    if (prepared.length === 0) return;
    const cached = this.rosters.take(conferenceId);
    const { result, returned } = await this.store.pipelinedTransaction<Decided | null>(async (tx) => {
      const { fresh, loaded, unsent } = await this.store.claimAndLoadLocked(
        tx,
        consumers.conferenceCoreInbound,
        prepared.map((p) => p.event.id),
        conferenceId,
        cached,
      );
      const todo = prepared.filter((p) => fresh.has(p.event.id));
      if (todo.length === 0) return { result: null, last: [] };
      if (todo.some((p) => p.fromKnown && isStranger(loaded, p.event.network, p.event.from))) {
        throw new StaleStanding();
      }
      const decisions = todo.map(({ event, lookups, isOwnerContact }) =>
        decideInbound(loaded?.facts ?? null, loaded?.roster ?? [], event, {
          now: new Date(),
          isOwnerContact,
          lookups,
          invitations: this.invitations,
          unverifiedNetworks: this.unverifiedNetworks,
        }),
      );
      const causeId = todo[0]!.event.id;
      const { writes, outbox } = await this.store.decisionWrites(
        tx,
        loaded,
        conferenceId,
        mergeDecisions(decisions),
        causeId,
      );
      // The rows go to JetStream from this process when their conference's order allows it
      // (OutboxHandOver), else from the relay.
      if (!this.relay.handOver.mayTake(conferenceId, unsent)) {
        return { result: { loaded, handOver: null }, last: withOutboxInsert(writes, outbox) };
      }
      return {
        result: { loaded, handOver: { unsent, outbox } },
        last: writes,
        returning: handOverInsert(outbox),
      };
    });
    if (!result) return;
    // Committed: the roster as these decisions left it is the conference's latest.
    if (result.loaded) this.rosters.remember(result.loaded);
    if (!result.handOver) return this.relay.kick();
    const idOf = new Map(returned.map((row) => [row.msg_id as string, row.id as string]));
    const rows = result.handOver.outbox.map((message) => ({ id: idOf.get(message.msgId), message }));
    const inserted = rows.filter((row): row is InsertedMessage => row.id !== undefined);
    if (inserted.length < rows.length) return this.relay.kick();
    this.relay.handOver.committed(conferenceId, result.handOver.unsent, inserted);
  }

  /**
   * What an event needs before its transaction: strangers are answered within a budget (null: over
   * it, ignored) and cost no look-up but the owner's contacts for `owner-contacts`; participants'
   * commands get what they need from other services (no lock held while waiting). A sender who was
   * a participant in the roster this process last loaded is taken for one without a database read;
   * the transaction checks that against the locked roster (StaleStanding).
   */
  private async prepare(event: ImInboundV1, useKnown: boolean): Promise<Prepared | null> {
    if (event.kind !== 'message') return { event, lookups: {}, isOwnerContact: false };
    if (useKnown && this.rosters.isParticipant(event.conferenceId, event.network, event.from)) {
      return { event, lookups: await this.lookupsFor(event), isOwnerContact: false, fromKnown: true };
    }
    const standing = await this.store.standingOf(event.conferenceId, event.network, event.from);
    if (!standing.isStranger) return { event, lookups: await this.lookupsFor(event), isOwnerContact: false };
    if (!this.budget.allowStranger(event.conferenceId, `${event.network}:${event.from}`)) {
      logger().debug(
        { conferenceId: event.conferenceId, from: event.from },
        'stranger over the reply budget: ignored',
      );
      return null;
    }
    const isOwnerContact =
      standing.joinPolicy === 'owner-contacts' && standing.ownerId
        ? await this.isContactOf(standing.ownerId, event.network, event.from)
        : false;
    return { event, lookups: {}, isOwnerContact };
  }

  /**
   * After an inbound message was dead-lettered (it could not be processed): the sender is told, on
   * the bus directly — the database may be what failed.
   */
  async tellSenderNotProcessed(inbound: ImInboundV1): Promise<void> {
    if (inbound.kind !== 'message' || !conferenceIdSchema.safeParse(inbound.conferenceId).success) return;
    const notice: ImDeliveryV2 = {
      ...newEnvelope(),
      deliveryId: `${inbound.id}#not-processed`,
      network: inbound.network,
      conferenceId: inbound.conferenceId,
      botName: this.store.botName(inbound.conferenceId),
      kind: 'message',
      body: 'Sorry, your message could not be processed and was not relayed. Please try again later.',
      recipients: [normalizeAddress(inbound.network, inbound.from)],
    };
    await this.bus.publish(
      streams.imOutbound(),
      subjects.imOutbound(inbound.network, inbound.conferenceId),
      notice,
      {
        msgId: notice.deliveryId,
      },
    );
  }

  /** Whether an address is among an owner's imported contacts (contact-import); false when it cannot say. */
  private async isContactOf(ownerId: string, network: Network, address: string): Promise<boolean> {
    try {
      return (await this.rpc.call(contactsRpc.isContact, { ownerId, network, address })).isContact;
    } catch (error) {
      logger().warn(
        { err: error, network },
        'contact-import did not answer; treating the sender as a stranger',
      );
      return false;
    }
  }

  /** What /history, /search, /list status|active and /invite need from the archive, presence or the store. */
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
      case 'invite':
        return {
          inviteeIsBot:
            command.network === 'irc' &&
            (await this.store.isConferenceBotNick(command.address.split('@')[0]!)),
        };
      default:
        return {};
    }
  }
}
