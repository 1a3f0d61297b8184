/**
 * The archive's SQL, in one place: batched idempotent inserts of conference events, the read
 * queries (last N, window, keyset pages, full-text search, counts), per-conference settings and
 * batched deletion of expired events. A plain class over a TypeORM DataSource (no Nest inside), so
 * the benchmark can use it directly.
 *
 * A row's position is (seq, collision): `collision` is 0 for the first event archived under a seq
 * and 1, 2, … for different events that reused it later (issue 14: conference-core hands a seq out
 * again after a failover lost the commit that had taken it). Every read orders by that position.
 */
import type { DataSource } from 'typeorm';
import { DomainError } from '@parley/bus';
import { preparedQuery } from '@parley/persistence';
import type { ArchiveLanguage, ArchiveSettings, ArchivedEvent, ConferenceEventV1 } from '@parley/contracts';

/** Filters shared by the read queries. Times are ISO-8601 instants; `since` inclusive, `until` exclusive. */
export interface EventFilter {
  since?: string | undefined;
  until?: string | undefined;
  messagesOnly?: boolean | undefined;
  /** Full-text query; implies messages only. */
  q?: string | undefined;
  /** Only events after this position. */
  after?: Position | undefined;
}

/** Where a row sits in its conference: by seq, then by collision (see the module comment). */
export interface Position {
  seq: number;
  collision: number;
}

/** Before every event (seqs start at 1). */
export const START: Position = { seq: 0, collision: 0 };

/**
 * An event stored under a (conference, seq) a different event already had. `firstEventId` is the
 * event archived first under that seq (collision 0).
 */
export interface SeqReuse {
  conferenceId: string;
  seq: number;
  collision: number;
  eventId: string;
  firstEventId: string;
}

export interface StoredEvents {
  /** Rows written: events the archive did not hold yet. */
  inserted: number;
  /** Of those, the ones that reused a seq (kept, to be reported). */
  reused: SeqReuse[];
}

export interface Page {
  events: ArchivedEvent[];
  nextCursor: string | null;
}

/**
 * Most payload bytes one answer carries: NATS refuses messages over its max_payload (1 MiB by
 * default), and an event can be 16 kB of text. A page may therefore hold fewer events than asked.
 */
export const MAX_REPLY_BYTES = 512 * 1024;

/**
 * SQL that keeps, of `source` (rows with seq, collision, payload, payload_bytes, already ordered and
 * limited), the leading rows whose payloads fit MAX_REPLY_BYTES — always at least the first — in
 * (seq, collision) order, each with `fetched`, how many rows `source` had. `direction` is the order
 * `source` was taken in (DESC keeps the newest).
 */
function fitReplySql(source: string, direction: 'ASC' | 'DESC'): string {
  return `SELECT seq, collision, payload, fetched FROM (
      SELECT seq, collision, payload, payload_bytes, count(*) OVER () AS fetched,
             sum(payload_bytes) OVER (ORDER BY seq ${direction}, collision ${direction}
                                      ROWS UNBOUNDED PRECEDING) AS running
      FROM (${source}) limited
    ) sized
    WHERE running - payload_bytes = 0 OR running <= ${MAX_REPLY_BYTES}
    ORDER BY seq, collision`;
}

/** How many rows one retention or re-index statement touches: short transactions, no long locks. */
export const MAINTENANCE_BATCH = 5_000;

/** The columns of one event row, extracted from the event for indexing and counting. */
function toRow(event: ConferenceEventV1) {
  const actor =
    event.type === 'message-accepted' ? event.sender : 'participant' in event ? event.participant : null;
  return {
    conference_id: event.conferenceId,
    seq: event.seq,
    event_id: event.id,
    type: event.type,
    occurred_at: event.occurredAt,
    actor_network: actor?.network ?? null,
    actor_address: actor?.address ?? null,
    actor_name: actor?.displayName ?? null,
    body: event.type === 'message-accepted' ? event.body : null,
    payload: event,
    payload_bytes: Buffer.byteLength(JSON.stringify(event)),
  };
}

/**
 * Cursors are opaque to callers: base64url of the conference and the position of the last event
 * handed out. The collision is left out when 0, so a cursor is what it was before seqs could be
 * reused (cursors handed out then stay valid).
 */
export function encodeCursor(conferenceId: string, position: Position): string {
  const cursor =
    position.collision === 0
      ? { c: conferenceId, s: position.seq }
      : { c: conferenceId, s: position.seq, k: position.collision };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

export function decodeCursor(conferenceId: string, cursor: string | undefined): Position {
  if (cursor === undefined) return START;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      c?: unknown;
      s?: unknown;
      k?: unknown;
    };
    const collision = parsed.k ?? 0;
    if (parsed.c === conferenceId && isCount(parsed.s) && isCount(collision)) {
      return { seq: parsed.s, collision };
    }
  } catch {
    // fall through: not one of ours
  }
  throw new DomainError('validation-failed', 'the cursor is not valid for this conference', 'cursor');
}

/**
 * WHERE clause for a conference and a filter; `params` starts with the conference id as $1.
 * Search matches the 'simple' query or the conference-language query (stemmed), so "run" finds
 * "running" in an English conference and any exact word in every conference.
 */
function whereClause(conferenceId: string, filter: EventFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [conferenceId];
  const parts = ['e.conference_id = $1'];
  if (filter.since) {
    params.push(filter.since);
    parts.push(`e.occurred_at >= $${params.length}`);
  }
  if (filter.until) {
    params.push(filter.until);
    parts.push(`e.occurred_at < $${params.length}`);
  }
  if (filter.after !== undefined) {
    params.push(filter.after.seq, filter.after.collision);
    parts.push(`(e.seq, e.collision) > ($${params.length - 1}, $${params.length})`);
  }
  if (filter.messagesOnly || filter.q) parts.push(`e.type = 'message-accepted'`);
  if (filter.q) {
    params.push(filter.q);
    const q = `$${params.length}`;
    parts.push(
      `e.search @@ (plainto_tsquery('simple'::regconfig, ${q}) || plainto_tsquery(coalesce(
         (SELECT s.language FROM conference_settings s WHERE s.conference_id = $1), 'simple'::regconfig), ${q}))`,
    );
  }
  return { sql: parts.join(' AND '), params };
}

export class ArchiveStore {
  constructor(private readonly db: DataSource) {}

  /**
   * Stores events in one statement (one transaction). An event the archive already holds (the same
   * event id under its seq: a redelivery, or a second copy in the batch) is skipped. A different
   * event under a seq that is taken — conference-core reused the seq — is stored under the next
   * `collision` of that seq, in the order the events come (batch order after what is stored), and
   * returned in `reused` for the caller to report.
   *
   * No ON CONFLICT: two transactions planning the same new row (only possible across replicas, a
   * conference's events are in one lane per process) make the second fail on the primary key, and
   * its retry sees the first's rows — nothing is dropped silently.
   */
  async insertEvents(events: ConferenceEventV1[]): Promise<StoredEvents> {
    if (events.length === 0) return { inserted: 0, reused: [] };
    const rows = await preparedQuery<{ inserted: number; reused: SeqReuse[] }>(
      this.db,
      `WITH batch AS (
         -- One row per distinct event, at its first place in the batch (arrival).
         SELECT DISTINCT ON (e.conference_id, e.seq, e.event_id) e.*
         FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (conference_id text, seq bigint, event_id text,
                type text, occurred_at timestamptz, actor_network text, actor_address text, actor_name text,
                body text, payload jsonb, payload_bytes integer))
              WITH ORDINALITY AS e(conference_id, seq, event_id, type, occurred_at, actor_network,
                actor_address, actor_name, body, payload, payload_bytes, arrival)
         -- A conference forgotten with its owner stays forgotten (its last events come late).
         WHERE NOT EXISTS (SELECT 1 FROM forgotten_conference f WHERE f.conference_id = e.conference_id)
         ORDER BY e.conference_id, e.seq, e.event_id, e.arrival),
       fresh AS (
         -- What the archive holds under each seq (one primary-key probe): events already there are
         -- skipped; the others take the next collisions, numbered in arrival order. (WHERE is
         -- applied before the window functions.)
         SELECT b.*,
                held.next_collision
                  + row_number() OVER (PARTITION BY b.conference_id, b.seq ORDER BY b.arrival) - 1 AS collision,
                coalesce(held.first_event_id,
                         first_value(b.event_id) OVER (PARTITION BY b.conference_id, b.seq ORDER BY b.arrival))
                  AS first_event_id
         FROM batch b
         CROSS JOIN LATERAL (
           SELECT coalesce(max(a.collision) + 1, 0) AS next_collision,
                  bool_or(a.event_id = b.event_id) AS is_held,
                  (array_agg(a.event_id ORDER BY a.collision))[1] AS first_event_id
           FROM archive_event a WHERE a.conference_id = b.conference_id AND a.seq = b.seq) held
         WHERE held.is_held IS NOT TRUE),
       inserted AS (
         INSERT INTO archive_event (conference_id, seq, collision, event_id, type, occurred_at,
                                    actor_network, actor_address, actor_name, body, payload,
                                    payload_bytes, language)
         SELECT f.conference_id, f.seq, f.collision, f.event_id, f.type, f.occurred_at, f.actor_network,
                f.actor_address, f.actor_name, f.body, f.payload, f.payload_bytes,
                coalesce(s.language, 'simple'::regconfig)
         FROM fresh f
         LEFT JOIN conference_settings s ON s.conference_id = f.conference_id
         RETURNING conference_id, seq, collision, event_id)
       SELECT count(*)::int AS inserted,
              coalesce(jsonb_agg(jsonb_build_object('conferenceId', i.conference_id, 'seq', i.seq,
                         'collision', i.collision, 'eventId', i.event_id, 'firstEventId', f.first_event_id)
                         ORDER BY i.conference_id, i.seq, i.collision)
                       FILTER (WHERE i.collision > 0), '[]'::jsonb) AS reused
       FROM inserted i
       JOIN fresh f ON f.conference_id = i.conference_id AND f.seq = i.seq AND f.event_id = i.event_id`,
      [JSON.stringify(events.map(toRow))],
    );
    return { inserted: rows[0]?.inserted ?? 0, reused: rows[0]?.reused ?? [] };
  }

  /** The latest `limit` events matching the filter, in (seq, collision) order. */
  async latest(conferenceId: string, filter: EventFilter, limit: number): Promise<ArchivedEvent[]> {
    const where = whereClause(conferenceId, filter);
    // Over the reply budget, the newest events are kept (the caller asked for the latest).
    const rows: Array<{ payload: ArchivedEvent }> = await this.db.query(
      fitReplySql(
        `SELECT e.seq, e.collision, e.payload, e.payload_bytes FROM archive_event e WHERE ${where.sql}
         ORDER BY e.seq DESC, e.collision DESC LIMIT $${where.params.length + 1}`,
        'DESC',
      ),
      [...where.params, limit],
    );
    return rows.map((r) => r.payload);
  }

  /** How many events match the filter (for "showing the last 100 of 340"). */
  async count(conferenceId: string, filter: EventFilter): Promise<number> {
    const where = whereClause(conferenceId, filter);
    const rows: Array<{ total: number }> = await this.db.query(
      `SELECT count(*)::int AS total FROM archive_event e WHERE ${where.sql}`,
      where.params,
    );
    return rows[0]?.total ?? 0;
  }

  /** The latest `limit` matching events and how many match in all. */
  async latestWithTotal(
    conferenceId: string,
    filter: EventFilter,
    limit: number,
  ): Promise<{ events: ArchivedEvent[]; total: number; truncated: boolean }> {
    const [events, total] = await Promise.all([
      this.latest(conferenceId, filter, limit),
      this.count(conferenceId, filter),
    ]);
    return { events, total, truncated: total > events.length };
  }

  /**
   * One keyset page in (seq, collision) order after `cursor`; `nextCursor` is null when nothing
   * follows. A position never changes once stored, so a cursor stays valid.
   */
  async page(conferenceId: string, filter: EventFilter, limit: number, cursor?: string): Promise<Page> {
    const where = whereClause(conferenceId, { ...filter, after: decodeCursor(conferenceId, cursor) });
    // One row more than asked tells whether another page follows, without a count.
    const rows: Array<{ seq: string; collision: number; payload: ArchivedEvent; fetched: string }> =
      await this.db.query(
        fitReplySql(
          `SELECT e.seq, e.collision, e.payload, e.payload_bytes FROM archive_event e
           WHERE ${where.sql}
           ORDER BY e.seq, e.collision LIMIT $${where.params.length + 1}`,
          'ASC',
        ),
        [...where.params, limit + 1],
      );
    // One row more than asked was fetched: if it (or more, cut by the byte budget) is not shown,
    // another page follows.
    const shown = rows.slice(0, limit);
    const hasMore = Number(rows[0]?.fetched ?? 0) > shown.length;
    const last = shown[shown.length - 1];
    return {
      events: shown.map((r) => r.payload),
      nextCursor:
        hasMore && last
          ? encodeCursor(conferenceId, { seq: Number(last.seq), collision: last.collision })
          : null,
    };
  }

  /** The position of the participant's most recent `participant-left`, if they ever left. */
  async lastLeft(conferenceId: string, network: string, address: string): Promise<Position | undefined> {
    const rows: Array<{ seq: string; collision: number }> = await this.db.query(
      `SELECT seq, collision FROM archive_event
       WHERE conference_id = $1 AND type = 'participant-left' AND actor_network = $2 AND lower(actor_address) = lower($3)
       ORDER BY seq DESC, collision DESC LIMIT 1`,
      [conferenceId, network, address],
    );
    return rows[0] ? { seq: Number(rows[0].seq), collision: rows[0].collision } : undefined;
  }

  async counts(conferenceId: string) {
    const rows: Array<{
      network: string;
      address: string;
      display_name: string;
      messages: number;
      last_message_at: Date;
    }> = await this.db.query(
      `SELECT actor_network AS network, actor_address AS address,
              (array_agg(actor_name ORDER BY seq DESC, collision DESC))[1] AS display_name,
              count(*)::int AS messages, max(occurred_at) AS last_message_at
       FROM archive_event WHERE conference_id = $1 AND type = 'message-accepted'
       GROUP BY actor_network, actor_address
       ORDER BY messages DESC, network, address`,
      [conferenceId],
    );
    return rows.map((r) => ({
      network: r.network as 'xmpp' | 'irc',
      address: r.address,
      displayName: r.display_name,
      messages: r.messages,
      lastMessageAt: new Date(r.last_message_at).toISOString(),
    }));
  }

  async settings(conferenceId: string): Promise<ArchiveSettings> {
    const rows: Array<{ retention_seconds: number | null; language: string | null }> = await this.db.query(
      'SELECT retention_seconds, language::text AS language FROM conference_settings WHERE conference_id = $1',
      [conferenceId],
    );
    return {
      conferenceId,
      retentionSeconds: rows[0]?.retention_seconds ?? null,
      language: (rows[0]?.language ?? null) as ArchiveLanguage | null,
    };
  }

  /**
   * Changes settings; a language change re-indexes the conference's events in batches (the search
   * column is generated from `language`).
   */
  async updateSettings(
    conferenceId: string,
    change: { retentionSeconds?: number | null | undefined; language?: ArchiveLanguage | null | undefined },
  ): Promise<ArchiveSettings> {
    const current = await this.settings(conferenceId);
    const next: ArchiveSettings = {
      conferenceId,
      retentionSeconds:
        change.retentionSeconds === undefined ? current.retentionSeconds : change.retentionSeconds,
      language: change.language === undefined ? current.language : change.language,
    };
    await this.db.query(
      `INSERT INTO conference_settings (conference_id, retention_seconds, language, updated_at)
       VALUES ($1, $2, $3::regconfig, now())
       ON CONFLICT (conference_id) DO UPDATE
         SET retention_seconds = excluded.retention_seconds, language = excluded.language, updated_at = now()`,
      [conferenceId, next.retentionSeconds, next.language],
    );
    if (next.language !== current.language) {
      const language = next.language ?? 'simple';
      for (;;) {
        const [, affected] = (await this.db.query(
          `UPDATE archive_event SET language = $2::regconfig
           WHERE (conference_id, seq, collision) IN (
             SELECT conference_id, seq, collision FROM archive_event
             WHERE conference_id = $1 AND language <> $2::regconfig LIMIT $3)`,
          [conferenceId, language, MAINTENANCE_BATCH],
        )) as [unknown, number];
        if (affected < MAINTENANCE_BATCH) break;
      }
    }
    return next;
  }

  /** Conferences with a retention period. */
  async retentionPolicies(): Promise<Array<{ conferenceId: string; retentionSeconds: number }>> {
    const rows: Array<{ conference_id: string; retention_seconds: number }> = await this.db.query(
      'SELECT conference_id, retention_seconds FROM conference_settings WHERE retention_seconds IS NOT NULL',
    );
    return rows.map((r) => ({ conferenceId: r.conference_id, retentionSeconds: r.retention_seconds }));
  }

  /**
   * Deletes every event and the settings of these conferences and remembers them as forgotten, in
   * one transaction (a deleted owner's archive, issue 13). Idempotent. Returns the events deleted.
   */
  async forgetConferences(conferenceIds: string[]): Promise<number> {
    if (conferenceIds.length === 0) return 0;
    return this.db.transaction(async (manager) => {
      // An ingest insert running now took its snapshot before the tombstone exists: it would store
      // the conference's last events after this delete. This lock waits for inserts in flight (their
      // rows are then deleted here) and holds new ones until the tombstone is committed (they plan,
      // and take their snapshot, after the lock is granted). Owner deletions are rare.
      await manager.query('LOCK TABLE archive_event IN SHARE ROW EXCLUSIVE MODE');
      await manager.query(
        `INSERT INTO forgotten_conference (conference_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`,
        [conferenceIds],
      );
      const [, deleted] = (await manager.query('DELETE FROM archive_event WHERE conference_id = ANY($1)', [
        conferenceIds,
      ])) as [unknown, number];
      await manager.query('DELETE FROM conference_settings WHERE conference_id = ANY($1)', [conferenceIds]);
      return deleted;
    });
  }

  /**
   * Deletes up to `batch` events older than `cutoff` (oldest first); returns how many went. By the
   * full key: an event that reused an expired event's seq is younger and stays.
   */
  async deleteOlderThan(conferenceId: string, cutoff: Date, batch = MAINTENANCE_BATCH): Promise<number> {
    const [, affected] = (await this.db.query(
      `DELETE FROM archive_event WHERE (conference_id, seq, collision) IN (
         SELECT conference_id, seq, collision FROM archive_event
         WHERE conference_id = $1 AND occurred_at < $2 ORDER BY seq, collision LIMIT $3)`,
      [conferenceId, cutoff.toISOString(), batch],
    )) as [unknown, number];
    return affected;
  }
}
