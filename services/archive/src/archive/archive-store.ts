/**
 * The archive's SQL, in one place: batched idempotent inserts of conference events, the read
 * queries (last N, window, keyset pages, full-text search, counts), per-conference settings and
 * batched deletion of expired events. A plain class over a TypeORM DataSource (no Nest inside), so
 * the benchmark can use it directly.
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
  /** Only events after this seq. */
  afterSeq?: number | undefined;
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
 * SQL that keeps, of `source` (rows with seq, payload, payload_bytes, already ordered and limited),
 * the leading rows whose payloads fit MAX_REPLY_BYTES — always at least the first — in seq order,
 * each with `fetched`, how many rows `source` had. `direction` is the order `source` was taken in
 * (DESC keeps the newest).
 */
function fitReplySql(source: string, direction: 'ASC' | 'DESC'): string {
  return `SELECT seq, payload, fetched FROM (
      SELECT seq, payload, payload_bytes, count(*) OVER () AS fetched,
             sum(payload_bytes) OVER (ORDER BY seq ${direction} ROWS UNBOUNDED PRECEDING) AS running
      FROM (${source}) limited
    ) sized
    WHERE running - payload_bytes = 0 OR running <= ${MAX_REPLY_BYTES}
    ORDER BY seq`;
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

/** Cursors are opaque to callers: base64url of the conference and the last seq handed out. */
export function encodeCursor(conferenceId: string, seq: number): string {
  return Buffer.from(JSON.stringify({ c: conferenceId, s: seq })).toString('base64url');
}

export function decodeCursor(conferenceId: string, cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      c?: unknown;
      s?: unknown;
    };
    if (parsed.c === conferenceId && Number.isSafeInteger(parsed.s) && (parsed.s as number) >= 0) {
      return parsed.s as number;
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
  if (filter.afterSeq !== undefined) {
    params.push(filter.afterSeq);
    parts.push(`e.seq > $${params.length}`);
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
   * Stores events in one statement (one transaction); an event already archived under its
   * (conference, seq) is skipped. Returns how many rows were new.
   */
  async insertEvents(events: ConferenceEventV1[]): Promise<number> {
    if (events.length === 0) return 0;
    const rows = await preparedQuery<{ inserted: number }>(
      this.db,
      `WITH inserted AS (
         INSERT INTO archive_event (conference_id, seq, event_id, type, occurred_at, actor_network,
                                    actor_address, actor_name, body, payload, payload_bytes, language)
         SELECT e.conference_id, e.seq, e.event_id, e.type, e.occurred_at, e.actor_network,
                e.actor_address, e.actor_name, e.body, e.payload, e.payload_bytes,
                coalesce(s.language, 'simple'::regconfig)
         FROM jsonb_to_recordset($1::jsonb) AS e(conference_id text, seq bigint, event_id text, type text,
              occurred_at timestamptz, actor_network text, actor_address text, actor_name text, body text,
              payload jsonb, payload_bytes integer)
         LEFT JOIN conference_settings s ON s.conference_id = e.conference_id
         -- A conference forgotten with its owner stays forgotten (its last events come late).
         WHERE NOT EXISTS (SELECT 1 FROM forgotten_conference f WHERE f.conference_id = e.conference_id)
         ON CONFLICT (conference_id, seq) DO NOTHING
         RETURNING 1)
       SELECT count(*)::int AS inserted FROM inserted`,
      [JSON.stringify(events.map(toRow))],
    );
    return rows[0]?.inserted ?? 0;
  }

  /** The latest `limit` events matching the filter, in seq order. */
  async latest(conferenceId: string, filter: EventFilter, limit: number): Promise<ArchivedEvent[]> {
    const where = whereClause(conferenceId, filter);
    // Over the reply budget, the newest events are kept (the caller asked for the latest).
    const rows: Array<{ payload: ArchivedEvent }> = await this.db.query(
      fitReplySql(
        `SELECT e.seq, e.payload, e.payload_bytes FROM archive_event e WHERE ${where.sql}
         ORDER BY e.seq DESC LIMIT $${where.params.length + 1}`,
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

  /** One keyset page in seq order after `cursor`; `nextCursor` is null when nothing follows. */
  async page(conferenceId: string, filter: EventFilter, limit: number, cursor?: string): Promise<Page> {
    const after = decodeCursor(conferenceId, cursor);
    const where = whereClause(conferenceId, filter);
    where.params.push(after);
    // One row more than asked tells whether another page follows, without a count.
    const rows: Array<{ seq: string; payload: ArchivedEvent; fetched: string }> = await this.db.query(
      fitReplySql(
        `SELECT e.seq, e.payload, e.payload_bytes FROM archive_event e
         WHERE ${where.sql} AND e.seq > $${where.params.length}
         ORDER BY e.seq LIMIT $${where.params.length + 1}`,
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
      nextCursor: hasMore && last ? encodeCursor(conferenceId, Number(last.seq)) : null,
    };
  }

  /** The seq of the participant's most recent `participant-left`, if they ever left. */
  async lastLeftSeq(conferenceId: string, network: string, address: string): Promise<number | undefined> {
    const rows: Array<{ seq: string }> = await this.db.query(
      `SELECT seq FROM archive_event
       WHERE conference_id = $1 AND type = 'participant-left' AND actor_network = $2 AND lower(actor_address) = lower($3)
       ORDER BY seq DESC LIMIT 1`,
      [conferenceId, network, address],
    );
    return rows[0] ? Number(rows[0].seq) : undefined;
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
              (array_agg(actor_name ORDER BY seq DESC))[1] AS display_name,
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
           WHERE (conference_id, seq) IN (
             SELECT conference_id, seq FROM archive_event
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

  /** Deletes up to `batch` events older than `cutoff` (oldest first); returns how many went. */
  async deleteOlderThan(conferenceId: string, cutoff: Date, batch = MAINTENANCE_BATCH): Promise<number> {
    const [, affected] = (await this.db.query(
      `DELETE FROM archive_event WHERE (conference_id, seq) IN (
         SELECT conference_id, seq FROM archive_event
         WHERE conference_id = $1 AND occurred_at < $2 ORDER BY seq LIMIT $3)`,
      [conferenceId, cutoff.toISOString(), batch],
    )) as [unknown, number];
    return affected;
  }
}
