/**
 * All of conference-core's SQL: conferences and participants, the per-conference seq, the outbox,
 * the offline queue, presence as conference-core sees it, and time-to-live claims. The services
 * above it read as load (locked) → decide (conference-rules.ts, pure) → record.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError } from '@parley/bus';
import {
  newEnvelope,
  normalizeAddress,
  subjects,
  type AggregatePresence,
  type Network,
  type PresenceChangedV1,
} from '@parley/contracts';
import {
  CLAIM_MESSAGES_SQL,
  chunkByParameters,
  claimMessage,
  deleteInBatches,
  pipelinedTransaction,
  preparedQuery,
  runTogether,
  type Statement,
} from '@parley/persistence';
import { planFanOut } from '../delivery/fan-out.js';
import {
  OFFLINE_QUEUE,
  pruneOfflineQueues,
  queueOffline,
  takeQueued,
  type OfflineQueueOptions,
} from '../offline/offline-queue.js';
import { shouldQueue, shouldWithhold } from '../offline/offline-rules.js';
import { enqueue, withOutboxInsert, type OutboxMessage } from '../outbox/outbox.relay.js';
import { isActiveParticipant, nextIdleDeadline } from '../ttl/idle-deadline.js';
import { ConferenceEntity, ParticipantEntity } from './conference.entity.js';
import { UNVERIFIED_NETWORKS, conferenceIdsForNick } from './invitation-policy.js';
import { isStrangerBy, sortRoster, type CachedRoster } from './roster-cache.js';
import { SeqFloor } from './seq-floor.js';
import {
  presenceKey,
  type ConferenceFacts,
  type Decision,
  type EventDraft,
  type ParticipantFacts,
} from './conference-rules.js';

export const BOT_SUFFIX = Symbol('BOT_SUFFIX');

/** A loaded conference with its roster, as the rules see it, plus the rows behind them. */
export interface Loaded {
  entity: ConferenceEntity;
  facts: ConferenceFacts;
  roster: ParticipantFacts[];
  rows: Map<ParticipantFacts, ParticipantEntity>;
  /** conference-core's own presence view of the roster (presenceKey → presence); absent = never heard of. */
  presence: Map<string, AggregatePresence>;
}

export type Tx = EntityManager;

type ConferenceRow = { id: string; name: string; subject: string; state: string; join_policy: string };

@Injectable()
export class ConferenceStore {
  /** The last seq numbered per conference in each open transaction, for the seq floor once it commits. */
  private readonly numbered = new WeakMap<Tx, Map<string, number>>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(BOT_SUFFIX) private readonly botSuffix: string,
    @Inject(OFFLINE_QUEUE) private readonly offlineQueue: OfflineQueueOptions,
    @Inject(UNVERIFIED_NETWORKS) private readonly unverifiedNetworks: ReadonlySet<Network>,
    private readonly seqFloor: SeqFloor,
  ) {}

  /** "Team sync (parley)": every bot's screen name says it is a Parley bot. */
  botName(name: string): string {
    return `${name} ${this.botSuffix}`;
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let used: Tx | undefined;
    const result = await this.dataSource.transaction((tx) => fn((used = tx)));
    this.committed(used);
    return result;
  }

  /** A transaction sending BEGIN with its first statement and COMMIT with `last` (the hot path's). */
  async pipelinedTransaction<T>(
    fn: (tx: Tx) => Promise<{ result: T; last: Statement[]; returning?: Statement | null }>,
  ): Promise<{ result: T; returned: Record<string, unknown>[] }> {
    let used: Tx | undefined;
    const committed = await pipelinedTransaction(this.dataSource, (tx) => fn((used = tx)));
    this.committed(used);
    return committed;
  }

  /** After `tx` committed: the seqs it numbered are taken (seq-floor.ts); a rollback takes none. */
  private committed(tx: Tx | undefined): void {
    const numbered = tx && this.numbered.get(tx);
    for (const [conferenceId, seq] of numbered ?? []) this.seqFloor.remember(conferenceId, seq);
  }

  /** Claims an event id for a consumer inside `tx`: false when it was handled before. */
  claim(tx: Tx, consumer: string, id: string): Promise<boolean> {
    return claimMessage(tx, consumer, id);
  }

  // ---- conferences ------------------------------------------------------------------------

  async insertConference(entity: ConferenceEntity): Promise<void> {
    await this.dataSource.getRepository(ConferenceEntity).insert(entity);
  }

  newConference(fields: Partial<ConferenceEntity>): ConferenceEntity {
    return this.dataSource.getRepository(ConferenceEntity).create(fields);
  }

  listByOwner(ownerId: string): Promise<ConferenceEntity[]> {
    return this.dataSource
      .getRepository(ConferenceEntity)
      .find({ where: { ownerId }, order: { createdAt: 'ASC' } });
  }

  async findOwned(
    ownerId: string,
    conferenceId: string,
    tx: Tx = this.dataSource.manager,
  ): Promise<ConferenceEntity> {
    const entity = await tx.getRepository(ConferenceEntity).findOneBy({ id: conferenceId, ownerId });
    if (!entity) throw conferenceNotFound(conferenceId);
    return entity;
  }

  findConference(conferenceId: string): Promise<ConferenceEntity | null> {
    return this.dataSource.getRepository(ConferenceEntity).findOneBy({ id: conferenceId });
  }

  /**
   * Active conferences an address may talk to: it is a participant, the conference is open, or it
   * is `owner-contacts` and the address is among its owner's contacts (`contactOf`: those owners).
   */
  async joinableBy(network: Network, address: string, contactOf: string[] = []): Promise<ConferenceEntity[]> {
    const rows = (await this.dataSource.query(
      `SELECT c.id, c.name, c.subject, c.state, c.join_policy FROM conference c
        WHERE c.state = 'active'
          AND (c.join_policy = 'open'
            OR (c.join_policy = 'owner-contacts' AND c.owner_id = ANY($3::text[]))
            OR EXISTS (
            SELECT 1 FROM participant p
             WHERE p.conference_id = c.id AND p.network = $1 AND p.address = $2 AND p.state <> 'removed'))
        ORDER BY c.name, c.id LIMIT 500`,
      [network, normalizeAddress(network, address), contactOf],
    )) as ConferenceRow[];
    return rows.map((row) => this.fromRow(row));
  }

  /**
   * The active conferences with a participant on `network` who was not removed: those whose bot a
   * gateway brings online when it takes them on.
   */
  async activeOn(network: Network): Promise<ConferenceEntity[]> {
    const rows = (await this.dataSource.query(
      `SELECT c.id, c.name, c.subject, c.state, c.join_policy FROM conference c
        WHERE c.state = 'active'
          AND EXISTS (
            SELECT 1 FROM participant p
             WHERE p.conference_id = c.id AND p.network = $1 AND p.state <> 'removed')
        ORDER BY c.id`,
      [network],
    )) as ConferenceRow[];
    return rows.map((row) => this.fromRow(row));
  }

  /** A conference as the directory queries select it (`id, name, subject, state, join_policy`). */
  private fromRow(row: ConferenceRow): ConferenceEntity {
    return this.newConference({
      id: row.id,
      name: row.name,
      subject: row.subject,
      state: row.state as ConferenceEntity['state'],
      joinPolicy: row.join_policy as ConferenceEntity['joinPolicy'],
    });
  }

  async participantCounts(conferenceIds: string[]): Promise<Map<string, number>> {
    if (conferenceIds.length === 0) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT conference_id, count(*)::int AS n FROM participant
        WHERE conference_id = ANY($1) AND state <> 'removed' GROUP BY conference_id`,
      [conferenceIds],
    )) as Array<{ conference_id: string; n: number }>;
    return new Map(rows.map((r) => [r.conference_id, r.n]));
  }

  participantRows(conferenceId: string): Promise<ParticipantEntity[]> {
    return this.dataSource
      .getRepository(ParticipantEntity)
      .find({ where: { conferenceId }, order: { invitedAt: 'ASC', address: 'ASC' } });
  }

  /**
   * Where a sender stands with a conference: a stranger when there is no such conference, it is
   * not running, or the address is not a participant (or was removed); with the conference's owner
   * and join policy (an `owner-contacts` conference lets the owner's contacts in).
   */
  async standingOf(
    conferenceId: string,
    network: Network,
    address: string,
  ): Promise<{
    isStranger: boolean;
    ownerId: string | null;
    joinPolicy: ConferenceEntity['joinPolicy'] | null;
  }> {
    const [row] = (await this.dataSource.query(
      `SELECT c.state AS conference_state, c.owner_id, c.join_policy, p.state AS participant_state
         FROM conference c
         LEFT JOIN participant p ON p.conference_id = c.id AND p.network = $2 AND p.address = $3
        WHERE c.id = $1`,
      [conferenceId, network, normalizeAddress(network, address)],
    )) as Array<{
      conference_state: string;
      owner_id: string;
      join_policy: string;
      participant_state: string | null;
    }>;
    if (!row) return { isStranger: true, ownerId: null, joinPolicy: null };
    return {
      isStranger: isStrangerBy(row.conference_state, row.participant_state),
      ownerId: row.owner_id,
      joinPolicy: row.join_policy as ConferenceEntity['joinPolicy'],
    };
  }

  /** Whether an IRC nick is the bot of one of this deployment's conferences. */
  async isConferenceBotNick(nick: string): Promise<boolean> {
    const { exact, headTail } = conferenceIdsForNick(nick);
    const rows = (await this.dataSource.query(
      `SELECT 1 FROM conference
        WHERE id = ANY($1::text[]) OR ($2::text IS NOT NULL AND id LIKE $2 || '%' AND id LIKE '%-' || $3)
        LIMIT 1`,
      [exact, headTail?.[0] ?? null, headTail?.[1] ?? null],
    )) as unknown[];
    return rows.length > 0;
  }

  /** The identities of a conference (not removed), for presence look-ups. */
  identities(conferenceId: string): Promise<Array<{ network: Network; address: string }>> {
    return this.dataSource.query(
      `SELECT network, address FROM participant WHERE conference_id = $1 AND state <> 'removed'`,
      [conferenceId],
    );
  }

  /** Deletes those who left or were removed; the invitation tree keeps the inviter's name. */
  async deleteDeparted(tx: Tx, conferenceId: string): Promise<number> {
    await this.bumpRosterVersions(tx, [conferenceId]);
    const gone = (await tx.query(
      `DELETE FROM participant WHERE conference_id = $1 AND state IN ('left', 'removed') RETURNING id`,
      [conferenceId],
    )) as [Array<{ id: string }>, number];
    const ids = gone[0].map((row) => row.id);
    if (ids.length > 0) {
      await tx.query('UPDATE participant SET invited_by_id = NULL WHERE invited_by_id = ANY($1::uuid[])', [
        ids,
      ]);
    }
    return ids.length;
  }

  /**
   * Loads a conference with its roster and presence view, locking its row until `tx` ends. Plain
   * SQL, two round trips: this is the hot path of every message (TypeORM's query building was a
   * fifth of conference-core's CPU in the profile of docs/performance.md).
   */
  async loadLocked(tx: Tx, conferenceId: string): Promise<Loaded | null> {
    const [row] = (await tx.query(`SELECT * FROM conference WHERE id = $1 FOR UPDATE`, [
      conferenceId,
    ])) as Array<Record<string, unknown>>;
    return row ? this.loadRoster(tx, conferenceFromRow(row)) : null;
  }

  /**
   * The inbox claim of several event ids and loadLocked in one round trip: the ids not handled
   * before, and the conference (row locked) with its roster when there is one and some id was fresh.
   * - `cached`: the roster this process remembers (roster-cache.ts). When the locked row has its
   *   version, the statement reads no participant and the remembered roster is the one the lock
   *   protects.
   * - Otherwise the roster comes in the same statement, read in the statement's snapshot; that is
   *   the roster the lock protects unless another transaction changed the conference between the
   *   snapshot and the lock (every roster change updates the conference row): then the locked row
   *   is a newer version than the snapshot's (its xmin differs), and the roster is read again.
   */
  async claimAndLoadLocked(
    tx: Tx,
    consumer: string,
    ids: string[],
    conferenceId: string,
    cached?: CachedRoster,
  ): Promise<{ fresh: Set<string>; loaded: Loaded | null; unsent: string[] | null }> {
    const rows = await preparedQuery<
      Record<string, unknown> & { claimed_ids: string[]; unsent_ids: string[] }
    >(tx, CLAIM_AND_LOAD_SQL, [consumer, ids, conferenceId, cached?.version ?? null]);
    const first = rows[0]!;
    const fresh = new Set(first.claimed_ids);
    if (fresh.size === 0 || first.id === null) return { fresh, loaded: null, unsent: null };
    const entity = conferenceFromRow(first);
    // The statement's snapshot predates the lock when another decision committed while it waited:
    // then its participants and unsent rows are not the latest.
    const settled = first.seen_version === first.locked_version;
    const unsent = settled && first.unsent_ids.length <= MAX_UNSENT_SEEN ? first.unsent_ids : null;
    if (cached && entity.rosterVersion === cached.version) {
      const { roster, rows: byFacts, presence } = cached;
      return { fresh, loaded: { entity, facts: factsOf(entity), roster, rows: byFacts, presence }, unsent };
    }
    if (!settled) return { fresh, loaded: await this.loadRoster(tx, entity), unsent };
    return { fresh, loaded: rosterOf(entity, first.p_id === null ? [] : rows, 'p_'), unsent };
  }

  /** The roster and presence view of a conference whose row `tx` has locked. */
  private async loadRoster(tx: Tx, entity: ConferenceEntity): Promise<Loaded> {
    const participantRows = (await tx.query(
      `SELECT p.*, v.presence AS current_presence FROM participant p
         LEFT JOIN identity_presence v ON v.network = p.network AND v.address = p.address
        WHERE p.conference_id = $1`,
      [entity.id],
    )) as Array<Record<string, unknown>>;
    return rosterOf(entity, participantRows);
  }

  /**
   * Records a decision: participants, seq-numbered events, fan-out deliveries into the outbox (or
   * single deliveries into the offline queue), and the time-to-live deadline.
   * `isActivity`: the decision restarts the idle clock.
   */
  async record(...args: Parameters<ConferenceStore['decisionWrites']>): Promise<void> {
    const { writes, outbox } = await this.decisionWrites(...args);
    await runTogether(args[0], withOutboxInsert(writes, outbox));
  }

  /**
   * record() but for its last writes — participants' updates, the conference row — and its outbox
   * messages, which are answered for the caller to send (pipelinedTransaction sends them with its
   * COMMIT). What must come first (new participants, queued deliveries) is written here.
   */
  async decisionWrites(
    tx: Tx,
    loaded: Loaded | null,
    conferenceId: string,
    decision: Decision,
    causeId: string,
    isActivity = true,
  ): Promise<{ writes: Statement[]; outbox: OutboxMessage[] }> {
    const now = new Date();
    const presenceOf = (d: { network: Network; to: string }) =>
      loaded?.presence.get(presenceKey({ network: d.network, address: d.to }));
    const deliveries = decision.deliveries.filter(
      (d) => !shouldWithhold(d, presenceOf(d), this.unverifiedNetworks),
    );
    const plan = planFanOut(deliveries, {
      causeId,
      conferenceId,
      botName: this.botName(loaded?.entity.name ?? conferenceId),
      now,
      newId: () => newEnvelope(now).id,
      isQueued: (d) => loaded !== null && shouldQueue(d, presenceOf(d), this.offlineQueue.networks),
    });
    const outbox: OutboxMessage[] = plan.fanOuts.map((fanOut) => ({
      stream: 'im-outbound',
      subject: subjects.imOutbound(fanOut.network, fanOut.conferenceId),
      msgId: fanOut.deliveryId,
      payload: fanOut as unknown as Record<string, unknown>,
    }));
    // The decision's writes go to PostgreSQL as one statement (round trips were most of the
    // hot path's CPU, docs/performance.md); new participants are inserted before it.
    const writes: Statement[] = [];
    if (loaded) {
      const { entity, facts, rows } = loaded;
      writes.push(...(await this.saveParticipants(tx, conferenceId, decision.touched, rows, now)));
      outbox.push(...(await this.numberEvents(tx, entity, decision.events, now)));
      if (facts.state === 'terminated' && entity.terminatedAt === null) {
        // Ended by a decision of the rules themselves: the owner's /close from their IM client.
        entity.terminatedAt = now;
        entity.terminatedReason = 'closed';
      }
      entity.state = facts.state;
      entity.updatedAt = now;
      entity.idleDeadline = idleDeadlineOf(loaded, now, isActivity);
      entity.rosterVersion += 1; // participants were saved above (a message counts for its sender)
      writes.push({
        sql: `UPDATE conference SET name = $2, subject = $3, ttl_seconds = $4, join_policy = $5,
           owner_im_account_id = $6, state = $7, last_seq = $8, updated_at = $9, started_at = $10,
           terminated_at = $11, terminated_reason = $12, idle_deadline = $13, roster_version = $14
         WHERE id = $1`,
        params: [
          entity.id,
          entity.name,
          entity.subject,
          entity.ttlSeconds,
          entity.joinPolicy,
          entity.ownerImAccountId,
          entity.state,
          entity.lastSeq,
          entity.updatedAt,
          entity.startedAt,
          entity.terminatedAt,
          entity.terminatedReason,
          entity.idleDeadline,
          entity.rosterVersion,
        ],
      });
    }
    await queueOffline(tx, plan.queued, this.offlineQueue.cap);
    return { writes, outbox };
  }

  /**
   * Numbers a decision's events, the one place a seq is handed out: after the locked row's
   * `last_seq` (advanced here, written by decisionWrites), or after a higher seq known taken when a
   * failover lost a commit (seq-floor.ts; the first numbering of a conference in this process asks
   * CONF_EVENTS once). The seq floor learns the new last seq once `tx` commits.
   */
  private async numberEvents(
    tx: Tx,
    entity: ConferenceEntity,
    events: EventDraft[],
    now: Date,
  ): Promise<OutboxMessage[]> {
    if (events.length === 0) return [];
    const conferenceId = entity.id;
    entity.lastSeq = await this.seqFloor.continueAfter(conferenceId, entity.lastSeq);
    const messages = events.map((event): OutboxMessage => {
      entity.lastSeq += 1;
      const payload = { ...newEnvelope(now), conferenceId, seq: entity.lastSeq, ...event };
      return {
        stream: 'conf-events',
        subject: subjects.confEvents(conferenceId),
        msgId: payload.id,
        payload,
      };
    });
    const numbered = this.numbered.get(tx) ?? new Map<string, number>();
    this.numbered.set(tx, numbered.set(conferenceId, entity.lastSeq));
    return messages;
  }

  /**
   * Inserts the decision's new participants and answers the updates of the others, for record()
   * to send with its other writes.
   */
  private async saveParticipants(
    tx: Tx,
    conferenceId: string,
    touched: ParticipantFacts[],
    rows: Map<ParticipantFacts, ParticipantEntity>,
    now: Date,
  ): Promise<Statement[]> {
    const updates: Statement[] = [];
    const participants = tx.getRepository(ParticipantEntity);
    const inserts: ParticipantEntity[] = [];
    for (const p of touched) {
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
        isOwner: p.isOwner ?? false,
        updatedAt: now,
      });
      // A re-invitation (after leaving) starts a new invitation.
      if (existing && p.state === 'invited') row.invitedAt = now;
      if (existing) {
        updates.push({
          sql: `UPDATE participant SET display_name = $2, state = $3, invited_by_id = $4, invited_by_network = $5,
             invited_by_address = $6, invited_by_name = $7, invited_at = $8, joined_at = $9, left_at = $10,
             message_count = $11, is_owner = $12, updated_at = $13
           WHERE id = $1`,
          params: [
            row.id,
            row.displayName,
            row.state,
            row.invitedById,
            row.invitedByNetwork,
            row.invitedByAddress,
            row.invitedByName,
            row.invitedAt,
            row.joinedAt,
            row.leftAt,
            row.messageCount,
            row.isOwner,
            row.updatedAt,
          ],
        });
      } else inserts.push(row);
      rows.set(p, row);
    }
    // Batched under PostgreSQL's parameter limit: TypeORM binds one parameter per column of each row.
    for (const chunk of chunkByParameters(inserts, participants.metadata.columns.length)) {
      await participants.insert(chunk);
    }
    return updates;
  }

  // ---- presence and time-to-live ------------------------------------------------------------

  /** Locks the active conferences an identity takes part in (in id order, against deadlocks). */
  async lockActiveConferencesOf(tx: Tx, network: Network, address: string): Promise<string[]> {
    const rows = (await tx.query(
      `SELECT c.id FROM conference c JOIN participant p ON p.conference_id = c.id
        WHERE p.network = $1 AND p.address = $2 AND c.state = 'active'
        ORDER BY c.id FOR UPDATE OF c`,
      [network, address],
    )) as Array<{ id: string }>;
    return rows.map((row) => row.id);
  }

  /**
   * Marks the rosters of conferences (rows locked by `tx`) as changed by something record() does not
   * write — a participant's presence, departed participants deleted — so no process takes a
   * roster it remembers for theirs (roster-cache.ts).
   */
  async bumpRosterVersions(tx: Tx, conferenceIds: string[]): Promise<void> {
    if (conferenceIds.length === 0) return;
    await tx.query('UPDATE conference SET roster_version = roster_version + 1 WHERE id = ANY($1::text[])', [
      conferenceIds,
    ]);
  }

  /** Stores a presence change unless a newer one is recorded; true when it was applied. */
  async recordPresence(tx: Tx, event: PresenceChangedV1, address: string): Promise<boolean> {
    const applied = (await tx.query(
      `INSERT INTO identity_presence (network, address, presence, status, changed_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (network, address) DO UPDATE
         SET presence = excluded.presence, status = excluded.status, changed_at = excluded.changed_at
       WHERE identity_presence.changed_at < excluded.changed_at
       RETURNING presence`,
      [event.network, address, event.presence, event.status ?? null, event.occurredAt],
    )) as unknown[];
    return applied.length > 0;
  }

  /**
   * Deletes what conference-core keeps for nobody (pruning.scheduler.ts): queued deliveries no one
   * will take any more, and the presence view of identities in no draft or active conference whose
   * last change is older than `presenceBefore` (they count as never heard of, which is what a new
   * participant is too). PRESENCE_CHANGES keeps a day, so with `presenceBefore` two days back no
   * older change can still arrive and pass for the newest.
   */
  async prune(presenceBefore: Date): Promise<{ queued: number; presence: number }> {
    const queued = await pruneOfflineQueues(this.dataSource);
    const presence = await deleteInBatches(
      this.dataSource,
      'identity_presence',
      `t.changed_at < $1 AND NOT EXISTS (
         SELECT 1 FROM participant p JOIN conference c ON c.id = p.conference_id
          WHERE p.network = t.network AND p.address = t.address
            AND c.state IN ('draft', 'active') AND p.state NOT IN ('left', 'removed'))`,
      [presenceBefore],
    );
    if (presence > 0) {
      // A running conference whose departed participant's view went: rosters remembered with it are stale.
      await this.dataSource.query(
        `WITH stale AS (
           SELECT c.id FROM conference c
            WHERE c.state = 'active' AND EXISTS (
              SELECT 1 FROM participant p
               WHERE p.conference_id = c.id AND p.state IN ('left', 'removed') AND NOT EXISTS (
                 SELECT 1 FROM identity_presence v WHERE v.network = p.network AND v.address = p.address))
            ORDER BY c.id FOR UPDATE OF c)
         UPDATE conference SET roster_version = roster_version + 1 FROM stale WHERE conference.id = stale.id`,
      );
    }
    return { queued, presence };
  }

  /** Moves an identity's queued deliveries (every conference) into the outbox, oldest first. */
  async releaseQueued(tx: Tx, network: Network, address: string): Promise<void> {
    if (!this.offlineQueue.networks.has(network)) return;
    await enqueue(tx, await takeQueued(tx, network, address, this.offlineQueue.cap));
  }

  async setIdleDeadline(tx: Tx, conferenceId: string, idleDeadline: Date | null): Promise<void> {
    await tx.getRepository(ConferenceEntity).update({ id: conferenceId }, { idleDeadline });
  }

  /** Whether some running conference's deadline has passed (no lock taken). */
  async anyDue(now: Date): Promise<boolean> {
    // Every PARLEY_TTL_CHECK_MS on every replica: prepared (parsed and planned once a connection).
    const [row] = await preparedQuery<{ due: boolean }>(
      this.dataSource,
      `SELECT EXISTS (SELECT 1 FROM conference WHERE state = 'active' AND idle_deadline <= $1) AS due`,
      [now],
    );
    return row?.due ?? false;
  }

  /** Claims one conference whose deadline has passed; another replica skips it (SKIP LOCKED). */
  async claimDue(tx: Tx, now: Date): Promise<string | null> {
    const [due] = (await tx.query(
      `SELECT id FROM conference WHERE state = 'active' AND idle_deadline <= $1
        ORDER BY idle_deadline LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    )) as Array<{ id: string }>;
    return due?.id ?? null;
  }
}

/** The deadline the conference should have now (see ttl/idle-deadline.ts). */
export function idleDeadlineOf(loaded: Loaded, now: Date, isActivity: boolean): Date | null {
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

export function conferenceNotFound(conferenceId: string): DomainError {
  return new DomainError('not-found', `conference ${conferenceId} not found`, 'conferenceId');
}

/** A `conference` row as the entity (plain SQL results are snake_case, bigint as text). */
function conferenceFromRow(r: Record<string, unknown>): ConferenceEntity {
  return Object.assign(new ConferenceEntity(), {
    id: r.id as string,
    ownerId: r.owner_id as string,
    name: r.name as string,
    subject: r.subject as string,
    ttlSeconds: r.ttl_seconds as number,
    joinPolicy: r.join_policy as ConferenceEntity['joinPolicy'],
    ownerImAccountId: (r.owner_im_account_id as string | null) ?? null,
    state: r.state as ConferenceEntity['state'],
    lastSeq: Number(r.last_seq),
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    startedAt: (r.started_at as Date | null) ?? null,
    terminatedAt: (r.terminated_at as Date | null) ?? null,
    terminatedReason: (r.terminated_reason as ConferenceEntity['terminatedReason']) ?? null,
    idleDeadline: (r.idle_deadline as Date | null) ?? null,
    rosterVersion: Number(r.roster_version),
  });
}

/**
 * The `conference` columns conferenceFromRow reads, named (not `c.*`): a prepared statement's
 * result must keep its shape when a migration adds a column.
 */
const CONFERENCE_COLUMNS = [
  'id',
  'owner_id',
  'name',
  'subject',
  'ttl_seconds',
  'join_policy',
  'owner_im_account_id',
  'state',
  'last_seq',
  'created_at',
  'updated_at',
  'started_at',
  'terminated_at',
  'terminated_reason',
  'idle_deadline',
  'roster_version',
]
  .map((column) => `c.${column}`)
  .join(', ');

/** The `participant` columns, each as `p_<column>`, for a statement that also returns a conference. */
const PARTICIPANT_COLUMNS = [
  'id',
  'conference_id',
  'network',
  'address',
  'display_name',
  'state',
  'invited_by_id',
  'invited_by_network',
  'invited_by_address',
  'invited_by_name',
  'invited_at',
  'joined_at',
  'left_at',
  'message_count',
  'is_owner',
  'updated_at',
]
  .map((column) => `p.${column} AS p_${column}`)
  .join(', ');

/** More of a conference's unsent outbox rows than this are not listed (the relay publishes them). */
const MAX_UNSENT_SEEN = 64;

/**
 * claimAndLoadLocked's statement: $1 consumer, $2 event ids, $3 conference id, $4 the roster version
 * remembered (participants are read only when the locked row has another). It also lists the
 * conference's unsent outbox rows (up to one more than MAX_UNSENT_SEEN), for the hand-over.
 */
const CLAIM_AND_LOAD_SQL = `WITH claimed AS (${CLAIM_MESSAGES_SQL}),
        locked AS (SELECT *, xmin::text AS locked_version FROM conference WHERE id = $3 FOR UPDATE)
   SELECT ARRAY(SELECT message_id FROM claimed) AS claimed_ids,
          (SELECT xmin::text FROM conference WHERE id = $3) AS seen_version,
          ARRAY(SELECT o.id::text FROM outbox o WHERE o.conference_id = $3 AND o.sent_at IS NULL
                 ORDER BY o.id LIMIT ${MAX_UNSENT_SEEN + 1}) AS unsent_ids,
          ${CONFERENCE_COLUMNS}, c.locked_version, ${PARTICIPANT_COLUMNS}, v.presence AS p_current_presence
     FROM (VALUES (1)) AS one (x)
     LEFT JOIN locked c ON true
     LEFT JOIN participant p
       ON p.conference_id = (CASE WHEN c.roster_version IS DISTINCT FROM $4::bigint THEN c.id END)
     LEFT JOIN identity_presence v ON v.network = p.network AND v.address = p.address`;

/** A `participant` row (its columns named `<prefix><column>`) as the entity. */
function participantFromRow(row: Record<string, unknown>, prefix = ''): ParticipantEntity {
  const r = (column: string) => row[prefix + column];
  return Object.assign(new ParticipantEntity(), {
    id: r('id') as string,
    conferenceId: r('conference_id') as string,
    network: r('network') as Network,
    address: r('address') as string,
    displayName: r('display_name') as string,
    state: r('state') as ParticipantEntity['state'],
    invitedById: (r('invited_by_id') as string | null) ?? null,
    invitedByNetwork: (r('invited_by_network') as Network | null) ?? null,
    invitedByAddress: (r('invited_by_address') as string | null) ?? null,
    invitedByName: (r('invited_by_name') as string | null) ?? null,
    invitedAt: r('invited_at') as Date,
    joinedAt: (r('joined_at') as Date | null) ?? null,
    leftAt: (r('left_at') as Date | null) ?? null,
    messageCount: r('message_count') as number,
    isOwner: r('is_owner') as boolean,
    updatedAt: r('updated_at') as Date,
  });
}

/**
 * A locked conference with its participants, from their rows (columns named `<prefix><column>`,
 * with the presence view's `<prefix>current_presence`).
 */
function rosterOf(entity: ConferenceEntity, rows: Array<Record<string, unknown>>, prefix = ''): Loaded {
  const byFacts = new Map<ParticipantFacts, ParticipantEntity>();
  const presence = new Map<string, AggregatePresence>();
  const roster = rows.map((row) => {
    const participant = participantFromRow(row, prefix);
    const facts = toFacts(participant);
    byFacts.set(facts, participant);
    const current = row[`${prefix}current_presence`] as AggregatePresence | null;
    if (current) presence.set(presenceKey(participant), current);
    return facts;
  });
  sortRoster(roster, byFacts);
  return { entity, facts: factsOf(entity), roster, rows: byFacts, presence };
}

function factsOf(entity: ConferenceEntity): ConferenceFacts {
  return {
    id: entity.id,
    name: entity.name,
    subject: entity.subject,
    state: entity.state,
    joinPolicy: entity.joinPolicy,
  };
}

export function toFacts(row: ParticipantEntity): ParticipantFacts {
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
    isOwner: row.isOwner,
  };
}
