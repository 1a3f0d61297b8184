/**
 * Conference-core's application service: owner operations and inbound IM events. Every change runs
 * in one transaction that locks the conference row, applies a pure decision (conference-rules.ts),
 * records participants, the per-conference seq and the outbox, then wakes the outbox relay.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError, RpcClient } from '@parley/bus';
import {
  addressError,
  archiveHistoryCommandRpc,
  archiveSearchCommandRpc,
  conferenceIdSchema,
  consumers,
  networkSchema,
  newEnvelope,
  normalizeAddress,
  subjects,
  type AddParticipantsRequest,
  type AddParticipantsResponse,
  type AggregatePresence,
  type BotInfo,
  type ConferenceView,
  type CreateConferenceRequest,
  type ImDeliveryV1,
  type ImInboundV1,
  type Network,
  type ParticipantView,
  type PresenceChangedV1,
  type UpdateConferenceRequest,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { claimMessage } from '@parley/persistence';
import { parseCommand } from '../commands/parse-command.js';
import {
  OFFLINE_QUEUE,
  queueOffline,
  takeQueued,
  type OfflineQueueOptions,
} from '../offline/offline-queue.js';
import { shouldQueue } from '../offline/offline-rules.js';
import { enqueue, OutboxRelay, type OutboxMessage } from '../outbox/outbox.relay.js';
import { PresenceLookup } from '../presence/presence-lookup.js';
import { isActiveParticipant, nextIdleDeadline } from '../ttl/idle-deadline.js';
import { newConferenceId } from './conference-id.js';
import { ConferenceEntity, ParticipantEntity } from './conference.entity.js';
import {
  closeConference,
  decideInbound,
  invite,
  presenceKey,
  removeParticipant,
  startConference,
  type CommandLookups,
  type ConferenceFacts,
  type Decision,
  type ParticipantFacts,
} from './conference-rules.js';

export const BOT_SUFFIX = Symbol('BOT_SUFFIX');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The archive answers the bot's /history and /search; the inbound consumer waits for it. */
const ARCHIVE_TIMEOUT_MS = 5_000;
/** Most conferences one time-to-live pass terminates (the next pass continues). */
const EXPIRE_BATCH = 100;

/** A loaded conference with its roster, as the rules see it, plus the rows behind them. */
interface Loaded {
  entity: ConferenceEntity;
  facts: ConferenceFacts;
  roster: ParticipantFacts[];
  rows: Map<ParticipantFacts, ParticipantEntity>;
  /** conference-core's own presence view of the roster (presenceKey → presence); absent = never heard of. */
  presence: Map<string, AggregatePresence>;
}

@Injectable()
export class ConferenceService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
    private readonly rpc: RpcClient,
    private readonly presenceLookup: PresenceLookup,
    @Inject(BOT_SUFFIX) private readonly botSuffix: string,
    @Inject(OFFLINE_QUEUE) private readonly offlineQueue: OfflineQueueOptions,
  ) {}

  botName(name: string): string {
    return `${name} ${this.botSuffix}`;
  }

  // ---- owner operations -------------------------------------------------------------------

  async create(request: CreateConferenceRequest): Promise<ConferenceView> {
    const now = new Date();
    const repo = this.dataSource.getRepository(ConferenceEntity);
    for (let attempt = 1; ; attempt++) {
      const entity = repo.create({
        id: newConferenceId(request.name),
        ownerId: request.ownerId,
        name: request.name,
        subject: request.subject,
        ttlSeconds: request.ttlSeconds,
        joinPolicy: request.joinPolicy,
        ownerImAccountId: request.ownerImAccountId,
        state: 'draft',
        lastSeq: 0,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        terminatedAt: null,
        terminatedReason: null,
      });
      try {
        await repo.insert(entity);
        return this.conferenceView(entity, 0);
      } catch (error) {
        // 36^6 suffixes make a collision rare; a second draw settles it.
        if ((error as { code?: string }).code !== '23505' || attempt >= 3) throw error;
      }
    }
  }

  async list(ownerId: string): Promise<{ conferences: ConferenceView[] }> {
    const entities = await this.dataSource
      .getRepository(ConferenceEntity)
      .find({ where: { ownerId }, order: { createdAt: 'ASC' } });
    const counts = await this.participantCounts(entities.map((e) => e.id));
    return { conferences: entities.map((e) => this.conferenceView(e, counts.get(e.id) ?? 0)) };
  }

  async get(ownerId: string, conferenceId: string): Promise<ConferenceView> {
    const entity = await this.findOwned(this.dataSource.manager, ownerId, conferenceId);
    const counts = await this.participantCounts([entity.id]);
    return this.conferenceView(entity, counts.get(entity.id) ?? 0);
  }

  async update(request: UpdateConferenceRequest): Promise<ConferenceView> {
    await this.change(request.ownerId, request.conferenceId, ({ entity }) => {
      if (entity.state === 'terminated') throw new DomainError('conflict', 'the conference has ended');
      if (request.name !== undefined) entity.name = request.name;
      if (request.subject !== undefined) entity.subject = request.subject;
      if (request.ttlSeconds !== undefined) entity.ttlSeconds = request.ttlSeconds;
      if (request.joinPolicy !== undefined) entity.joinPolicy = request.joinPolicy;
      if (request.ownerImAccountId !== undefined) entity.ownerImAccountId = request.ownerImAccountId;
      return { decision: emptyDecision(), result: undefined };
    });
    return this.get(request.ownerId, request.conferenceId);
  }

  async start(ownerId: string, conferenceId: string): Promise<ConferenceView> {
    await this.change(ownerId, conferenceId, ({ entity, facts, roster }) => {
      if (entity.state !== 'draft') {
        throw new DomainError('conflict', `the conference is ${entity.state}; only a draft can be started`);
      }
      entity.startedAt = new Date();
      return { decision: startConference(facts, roster), result: undefined };
    });
    return this.get(ownerId, conferenceId);
  }

  async close(ownerId: string, conferenceId: string): Promise<ConferenceView> {
    await this.change(ownerId, conferenceId, ({ entity, facts, roster }) => {
      if (entity.state === 'terminated')
        throw new DomainError('conflict', 'the conference has already ended');
      entity.terminatedAt = new Date();
      entity.terminatedReason = 'closed';
      return { decision: closeConference(facts, roster, 'closed'), result: undefined };
    });
    return this.get(ownerId, conferenceId);
  }

  async addParticipants(request: AddParticipantsRequest): Promise<AddParticipantsResponse> {
    return this.change(request.ownerId, request.conferenceId, ({ entity, facts, roster, rows }) => {
      if (entity.state === 'terminated') throw new DomainError('conflict', 'the conference has ended');
      const decision = emptyDecision();
      const added: ParticipantFacts[] = [];
      const errors: AddParticipantsResponse['errors'] = [];
      const seen = new Set<string>();
      request.participants.forEach((item, index) => {
        const fail = (
          field: 'network' | 'address',
          code: 'validation-failed' | 'conflict',
          message: string,
        ) =>
          errors.push({
            index,
            field: `participants.${index}.${field}`,
            network: item.network,
            address: item.address,
            code,
            message,
          });
        const network = networkSchema.safeParse(item.network.trim().toLowerCase());
        if (!network.success) {
          return fail('network', 'validation-failed', `unknown network "${item.network}" (use xmpp or irc)`);
        }
        const address = item.address.trim();
        const problem = addressError(network.data, address, 'participant');
        if (problem) return fail('address', 'validation-failed', problem);
        const key = `${network.data}:${normalizeAddress(network.data, address)}`;
        if (seen.has(key)) return fail('address', 'conflict', 'this address is listed twice in the request');
        seen.add(key);
        const outcome = invite(
          facts,
          roster,
          { network: network.data, address, ...(item.displayName ? { displayName: item.displayName } : {}) },
          null,
        );
        if (outcome.refusal) return fail('address', 'conflict', outcome.refusal);
        merge(decision, outcome.decision);
        added.push(outcome.participant!);
      });
      return {
        decision,
        result: () => ({
          added: added.map((p) => this.participantView(entity.id, p, rows.get(p)?.invitedAt)),
          errors,
        }),
      };
    }).then((result) => result());
  }

  async removeParticipant(
    ownerId: string,
    conferenceId: string,
    participantId: string,
  ): Promise<ParticipantView> {
    return this.change(ownerId, conferenceId, ({ entity, facts, roster, rows }) => {
      const p = UUID.test(participantId) ? roster.find((r) => r.id === participantId) : undefined;
      if (!p) throw new DomainError('not-found', `participant ${participantId} not found`, 'participantId');
      const decision = removeParticipant(facts, roster, p, new Date());
      return { decision, result: () => this.participantView(entity.id, p, rows.get(p)?.invitedAt) };
    }).then((result) => result());
  }

  async listParticipants(
    ownerId: string,
    conferenceId: string,
  ): Promise<{ participants: ParticipantView[] }> {
    const entity = await this.findOwned(this.dataSource.manager, ownerId, conferenceId);
    const rows = await this.dataSource
      .getRepository(ParticipantEntity)
      .find({ where: { conferenceId: entity.id }, order: { invitedAt: 'ASC', address: 'ASC' } });
    // Owners see each participant's presence; null when the presence service does not answer.
    const presence =
      rows.length > 0
        ? await this.presenceLookup.query(rows.map((row) => ({ network: row.network, address: row.address })))
        : null;
    return {
      participants: rows.map((row) => ({
        ...this.participantView(entity.id, toFacts(row), row.invitedAt),
        presence: presence?.get(presenceKey(row))?.presence ?? null,
      })),
    };
  }

  async cleanParticipants(ownerId: string, conferenceId: string): Promise<{ removed: number }> {
    return this.dataSource.transaction(async (manager) => {
      const entity = await this.findOwned(manager, ownerId, conferenceId);
      const gone = (await manager.query(
        `DELETE FROM participant WHERE conference_id = $1 AND state IN ('left', 'removed') RETURNING id`,
        [entity.id],
      )) as [Array<{ id: string }>, number];
      const ids = gone[0].map((row) => row.id);
      // The invitation tree keeps the inviter's name and address; only the link to the row goes.
      if (ids.length > 0) {
        await manager.query(
          'UPDATE participant SET invited_by_id = NULL WHERE invited_by_id = ANY($1::uuid[])',
          [ids],
        );
      }
      return { removed: ids.length };
    });
  }

  // ---- directory (for the gateways) -------------------------------------------------------

  async forAddress(network: Network, address: string): Promise<{ conferences: BotInfo[] }> {
    const rows = (await this.dataSource.query(
      `SELECT c.* FROM conference c
        WHERE c.state = 'active'
          AND (c.join_policy = 'open' OR EXISTS (
            SELECT 1 FROM participant p
             WHERE p.conference_id = c.id AND p.network = $1 AND p.address = $2 AND p.state <> 'removed'))
        ORDER BY c.name, c.id LIMIT 500`,
      [network, normalizeAddress(network, address)],
    )) as Array<{ id: string; name: string; subject: string; state: string; join_policy: string }>;
    return {
      conferences: rows.map((row) =>
        this.botInfo({
          id: row.id,
          name: row.name,
          subject: row.subject,
          state: row.state as ConferenceEntity['state'],
          joinPolicy: row.join_policy as ConferenceEntity['joinPolicy'],
        }),
      ),
    };
  }

  async bot(conferenceId: string): Promise<BotInfo> {
    const entity = await this.dataSource.getRepository(ConferenceEntity).findOneBy({ id: conferenceId });
    if (!entity) throw new DomainError('not-found', `conference ${conferenceId} not found`, 'conferenceId');
    return this.botInfo(entity);
  }

  // ---- inbound IM events ------------------------------------------------------------------

  /** Applies one inbound event exactly once (the inbox claim shares the decision's transaction). */
  async handleInbound(inbound: ImInboundV1): Promise<void> {
    if (!conferenceIdSchema.safeParse(inbound.conferenceId).success) {
      // Gateways only publish valid bot addresses; anything else cannot be answered as a bot.
      logger().warn(
        { conferenceId: inbound.conferenceId, id: inbound.id },
        'inbound event for an invalid conference id',
      );
      return;
    }
    // Commands that need another service ask it before the transaction (no lock held while
    // waiting); the pure rules then decide with the answer. A redelivery simply asks again.
    const lookups = await this.lookupsFor(inbound);
    await this.dataSource.transaction(async (manager) => {
      if (!(await claimMessage(manager, consumers.conferenceCoreInbound, inbound.id))) return;
      const loaded = await this.load(manager, inbound.conferenceId);
      const decision = decideInbound(loaded?.facts ?? null, loaded?.roster ?? [], inbound, {
        now: new Date(),
        isOwnerContact: false, // owner contacts arrive with the contact-import issue
        lookups,
      });
      await this.apply(manager, loaded, inbound.conferenceId, decision, inbound.id);
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
        const identities = (await this.dataSource.query(
          `SELECT network, address FROM participant WHERE conference_id = $1 AND state <> 'removed'`,
          [conferenceId],
        )) as Array<{ network: Network; address: string }>;
        return { presence: identities.length > 0 ? await this.presenceLookup.query(identities) : new Map() };
      }
      default:
        return {};
    }
  }

  // ---- presence changes and time-to-live ------------------------------------------------------

  /**
   * Applies one presence change (PRESENCE_CHANGES) exactly once: updates the offline view (the
   * change with the greatest occurredAt wins), re-evaluates the time-to-live of the identity's active
   * conferences and, when it is back, releases its queued deliveries. The conference rows are locked
   * first (in id order) so a message decided concurrently is either queued before the release or
   * decided after it with the new presence.
   */
  async handlePresenceChange(event: PresenceChangedV1): Promise<void> {
    const address = normalizeAddress(event.network, event.address);
    await this.dataSource.transaction(async (manager) => {
      if (!(await claimMessage(manager, consumers.conferenceCorePresence, event.id))) return;
      const conferences = (await manager.query(
        `SELECT c.id FROM conference c JOIN participant p ON p.conference_id = c.id
          WHERE p.network = $1 AND p.address = $2 AND c.state = 'active'
          ORDER BY c.id FOR UPDATE OF c`,
        [event.network, address],
      )) as Array<{ id: string }>;
      const applied = (await manager.query(
        `INSERT INTO identity_presence (network, address, presence, status, changed_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (network, address) DO UPDATE
           SET presence = excluded.presence, status = excluded.status, changed_at = excluded.changed_at
         WHERE identity_presence.changed_at < excluded.changed_at
         RETURNING presence`,
        [event.network, address, event.presence, event.status ?? null, event.occurredAt],
      )) as unknown[];
      if (applied.length === 0) return; // an older change than the one recorded
      if (event.presence !== 'offline' && this.offlineQueue.networks.has(event.network)) {
        await enqueue(manager, await takeQueued(manager, event.network, address, this.offlineQueue.cap));
      }
      const now = new Date();
      for (const { id } of conferences) {
        const loaded = await this.load(manager, id);
        if (!loaded) continue;
        const idleDeadline = this.idleDeadlineOf(loaded, now, false);
        if (idleDeadline?.getTime() !== loaded.entity.idleDeadline?.getTime()) {
          await manager.getRepository(ConferenceEntity).update({ id }, { idleDeadline });
        }
      }
    });
    this.relay.kick();
  }

  /**
   * Terminates the conferences whose time-to-live deadline has passed, one transaction each: the
   * row is claimed with FOR UPDATE SKIP LOCKED (another replica skips it) and is no longer due once
   * committed, so each fires once. Returns how many ended.
   */
  async expireDue(isStopping: () => boolean = () => false): Promise<number> {
    let expired = 0;
    for (let i = 0; i < EXPIRE_BATCH && !isStopping(); i++) {
      const outcome = await this.dataSource.transaction(async (manager) => {
        const now = new Date();
        const [due] = (await manager.query(
          `SELECT id FROM conference WHERE state = 'active' AND idle_deadline <= $1
            ORDER BY idle_deadline LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [now],
        )) as Array<{ id: string }>;
        if (!due) return 'none';
        const loaded = (await this.load(manager, due.id))!;
        if (this.idleDeadlineOf(loaded, now, false) === null) {
          // Someone is active after all (a change raced the deadline): no expiry.
          await manager.getRepository(ConferenceEntity).update({ id: due.id }, { idleDeadline: null });
          return 'kept';
        }
        loaded.entity.terminatedAt = now;
        loaded.entity.terminatedReason = 'ttl-expired';
        const decision = closeConference(loaded.facts, loaded.roster, 'ttl-expired');
        await this.apply(manager, loaded, due.id, decision, randomUUID(), false);
        return 'expired';
      });
      if (outcome === 'none') break;
      if (outcome === 'expired') expired += 1;
    }
    if (expired > 0) this.relay.kick();
    return expired;
  }

  /** The deadline the conference should have now (see ttl/idle-deadline.ts). */
  private idleDeadlineOf(loaded: Loaded, now: Date, isActivity: boolean): Date | null {
    return nextIdleDeadline({
      conferenceState: loaded.facts.state,
      ttlSeconds: loaded.entity.ttlSeconds,
      hasActiveParticipant: loaded.roster.some((p) =>
        isActiveParticipant(p, loaded.presence.get(presenceKey(p))),
      ),
      current: loaded.entity.idleDeadline,
      now,
      isActivity,
    });
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** Runs `fn` on the locked conference of `ownerId` and applies its decision, in one transaction. */
  private async change<T>(
    ownerId: string,
    conferenceId: string,
    fn: (loaded: Loaded) => { decision: Decision; result: T },
  ): Promise<T> {
    const result = await this.dataSource.transaction(async (manager) => {
      const loaded = await this.load(manager, conferenceId);
      if (!loaded || loaded.entity.ownerId !== ownerId) throw notFound(conferenceId);
      const { decision, result } = fn(loaded);
      await this.apply(manager, loaded, conferenceId, decision, randomUUID());
      return result;
    });
    this.relay.kick();
    return result;
  }

  private async load(manager: EntityManager, conferenceId: string): Promise<Loaded | null> {
    const entity = await manager
      .getRepository(ConferenceEntity)
      .findOne({ where: { id: conferenceId }, lock: { mode: 'pessimistic_write' } });
    if (!entity) return null;
    const participantRows = await manager
      .getRepository(ParticipantEntity)
      .find({ where: { conferenceId }, order: { invitedAt: 'ASC', address: 'ASC' } });
    const rows = new Map<ParticipantFacts, ParticipantEntity>();
    const roster = participantRows.map((row) => {
      const facts = toFacts(row);
      rows.set(facts, row);
      return facts;
    });
    const facts: ConferenceFacts = {
      id: entity.id,
      name: entity.name,
      subject: entity.subject,
      state: entity.state,
      joinPolicy: entity.joinPolicy,
    };
    const presenceRows = (await manager.query(
      `SELECT v.network, v.address, v.presence FROM participant p
         JOIN identity_presence v ON v.network = p.network AND v.address = p.address
        WHERE p.conference_id = $1`,
      [conferenceId],
    )) as Array<{ network: Network; address: string; presence: AggregatePresence }>;
    const presence = new Map(presenceRows.map((row) => [presenceKey(row), row.presence]));
    return { entity, facts, roster, rows, presence };
  }

  /**
   * Records a decision: participants, seq-numbered events, deliveries into the outbox (or the offline
   * queue), and the time-to-live deadline. `isActivity`: the decision restarts the idle clock.
   */
  private async apply(
    manager: EntityManager,
    loaded: Loaded | null,
    conferenceId: string,
    decision: Decision,
    causeId: string,
    isActivity = true,
  ): Promise<void> {
    const now = new Date();
    const outbox: OutboxMessage[] = [];
    const offline: ImDeliveryV1[] = [];
    const botName = this.botName(loaded?.entity.name ?? conferenceId);
    decision.deliveries.forEach((d, index) => {
      const deliveryId = `${causeId}#${index}:${d.network}:${d.to}`;
      const payload: ImDeliveryV1 = {
        ...newEnvelope(now),
        deliveryId,
        network: d.network,
        conferenceId,
        botName,
        to: d.to,
        kind: d.kind,
        ...(d.body !== undefined ? { body: d.body } : {}),
      };
      if (
        loaded &&
        shouldQueue(
          d,
          loaded.presence.get(presenceKey({ network: d.network, address: d.to })),
          this.offlineQueue.networks,
        )
      ) {
        offline.push(payload);
        return;
      }
      outbox.push({
        stream: 'im-outbound',
        subject: subjects.imOutbound(d.network),
        msgId: deliveryId,
        payload: payload as unknown as Record<string, unknown>,
      });
    });
    if (loaded) {
      const { entity, facts, rows } = loaded;
      const participants = manager.getRepository(ParticipantEntity);
      for (const p of decision.touched) {
        const existing = rows.get(p);
        const row = existing ?? participants.create({ id: randomUUID(), conferenceId, invitedAt: now });
        if (p.id === null) p.id = row.id;
        Object.assign(row, {
          network: p.network,
          address: p.address,
          displayName: p.displayName,
          state: p.state,
          invitedById: p.invitedBy?.participantId ?? null,
          invitedByNetwork: p.invitedBy?.network ?? null,
          invitedByAddress: p.invitedBy?.address ?? null,
          invitedByName: p.invitedBy?.displayName ?? null,
          joinedAt: p.joinedAt,
          leftAt: p.leftAt,
          messageCount: p.messageCount,
          updatedAt: now,
        });
        // A re-invitation (after leaving) starts a new invitation.
        if (existing && p.state === 'invited') row.invitedAt = now;
        if (existing) await participants.update({ id: row.id }, row);
        else await participants.insert(row);
        rows.set(p, row);
      }
      for (const event of decision.events) {
        entity.lastSeq += 1;
        const payload = { ...newEnvelope(now), conferenceId, seq: entity.lastSeq, ...event };
        outbox.push({
          stream: 'conf-events',
          subject: subjects.confEvents(conferenceId),
          msgId: payload.id,
          payload,
        });
      }
      entity.state = facts.state;
      entity.updatedAt = now;
      entity.idleDeadline = this.idleDeadlineOf(loaded, now, isActivity);
      const { id, ...changes } = entity;
      await manager.getRepository(ConferenceEntity).update({ id }, changes);
    }
    await enqueue(manager, outbox);
    await queueOffline(manager, offline, this.offlineQueue.cap);
  }

  private async findOwned(
    manager: EntityManager,
    ownerId: string,
    conferenceId: string,
  ): Promise<ConferenceEntity> {
    const entity = await manager.getRepository(ConferenceEntity).findOneBy({ id: conferenceId, ownerId });
    if (!entity) throw notFound(conferenceId);
    return entity;
  }

  private async participantCounts(conferenceIds: string[]): Promise<Map<string, number>> {
    if (conferenceIds.length === 0) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT conference_id, count(*)::int AS n FROM participant
        WHERE conference_id = ANY($1) AND state <> 'removed' GROUP BY conference_id`,
      [conferenceIds],
    )) as Array<{ conference_id: string; n: number }>;
    return new Map(rows.map((r) => [r.conference_id, r.n]));
  }

  private conferenceView(entity: ConferenceEntity, participantCount: number): ConferenceView {
    return {
      id: entity.id,
      ownerId: entity.ownerId,
      name: entity.name,
      subject: entity.subject,
      ttlSeconds: entity.ttlSeconds,
      joinPolicy: entity.joinPolicy,
      ownerImAccountId: entity.ownerImAccountId,
      state: entity.state,
      botName: this.botName(entity.name),
      participantCount,
      createdAt: entity.createdAt.toISOString(),
      updatedAt: entity.updatedAt.toISOString(),
      startedAt: entity.startedAt?.toISOString() ?? null,
      terminatedAt: entity.terminatedAt?.toISOString() ?? null,
    };
  }

  private participantView(
    conferenceId: string,
    p: ParticipantFacts,
    invitedAt = new Date(),
  ): ParticipantView {
    return {
      id: p.id!,
      conferenceId,
      network: p.network,
      address: p.address,
      displayName: p.displayName,
      state: p.state,
      invitedBy: p.invitedBy,
      invitedAt: invitedAt.toISOString(),
      joinedAt: p.joinedAt?.toISOString() ?? null,
      leftAt: p.leftAt?.toISOString() ?? null,
      messageCount: p.messageCount,
      presence: null,
    };
  }

  private botInfo(c: Pick<ConferenceEntity, 'id' | 'name' | 'subject' | 'state' | 'joinPolicy'>): BotInfo {
    return {
      conferenceId: c.id,
      name: c.name,
      subject: c.subject,
      botName: this.botName(c.name),
      state: c.state,
      joinPolicy: c.joinPolicy,
    };
  }
}

function notFound(conferenceId: string): DomainError {
  return new DomainError('not-found', `conference ${conferenceId} not found`, 'conferenceId');
}

function emptyDecision(): Decision {
  return { deliveries: [], events: [], touched: [] };
}

function merge(into: Decision, from: Decision): void {
  if (into === from) return;
  into.deliveries.push(...from.deliveries);
  into.events.push(...from.events);
  for (const p of from.touched) if (!into.touched.includes(p)) into.touched.push(p);
}

function toFacts(row: ParticipantEntity): ParticipantFacts {
  return {
    id: row.id,
    network: row.network,
    address: row.address,
    displayName: row.displayName,
    state: row.state,
    invitedBy: row.invitedByNetwork
      ? {
          participantId: row.invitedById,
          network: row.invitedByNetwork,
          address: row.invitedByAddress ?? '',
          displayName: row.invitedByName ?? '',
        }
      : null,
    joinedAt: row.joinedAt,
    leftAt: row.leftAt,
    messageCount: row.messageCount,
  };
}
