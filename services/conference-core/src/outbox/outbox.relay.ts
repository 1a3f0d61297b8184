/**
 * Publishes the outbox to JetStream in id order and marks rows sent. A pass runs after a committed
 * decision whose rows were not handed over by its process (kick; OutboxHandOver is the fast path)
 * and on a timer (rows left by a crash, or by another replica).
 *
 * One replica relays at a time: a pass holds a session advisory lock on the relay's own database
 * connection; a kick that finds it held is tried again LOCKED_RETRY_MS later (the holder's pass may
 * have read before this replica's rows committed). Per conference, the row lock of each decision
 * makes id order the commit order. In a batch, each conference's rows of a stream are published
 * one after another and the rest side by side, so a retried publish is never stored behind a later
 * row of its own conference. A pass is two round trips — take the lock and read the unsent rows in
 * one statement, then mark them sent and let the lock go in another — where it was five in a
 * transaction (BEGIN, lock, read, mark, COMMIT): round trips were most of the relay's CPU
 * (docs/performance.md). A row can be published twice — a crash between publish and "sent", a
 * replica whose read began just before another's mark committed, a pass reading a row that is
 * being handed over — always with the same Nats-Msg-Id, which JetStream's duplicate window drops.
 *
 * That window is 2 minutes. A row published, then left unmarked by an outage longer than that (of
 * PostgreSQL, or of every conference-core), would be stored a second time, and a gateway restarted
 * in between would deliver it again. So the read also records each row's first attempt
 * (`attempted_at`, before anything is published), and a row tried more than UNCERTAIN_AFTER ago is
 * looked up in its stream first: found, it is only marked sent (ADR 0007).
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PoolClient } from 'pg';
import { JetStreamBus } from '@parley/bus';
import {
  insertRowsStatement,
  preparedQuery,
  queryPrepared,
  writtenTogether,
  type PipelinedClient,
  type Statement,
} from '@parley/persistence';
import { streams, type StreamDefinition } from '@parley/contracts';
import { logger } from '@parley/observability';
import type { OutboxStream } from './outbox.entity.js';
import { OutboxHandOver, conferenceOf } from './outbox.hand-over.js';

const BATCH = 256;
const POLL_MS = 1_000;
/** Handed-over rows are marked sent this long after the first of them is published… */
const MARK_DELAY_MS = 200;
/** …or at once when this many wait. */
const MARK_AT_ONCE = 16;
/**
 * A kick that found another replica relaying is tried again this soon: that replica's pass may
 * have read before this replica's rows committed, and they would otherwise wait for the poll.
 */
const LOCKED_RETRY_MS = 20;
const CLEANUP_EVERY_MS = 10 * 60_000;
/** A row tried this long ago may be stored already and out of the 2-minute duplicate window. */
const UNCERTAIN_AFTER = '60 seconds';
/** Looked up from this long before its first attempt: the database's clock and NATS's may differ. */
const CLOCK_SKEW_MS = 30_000;

export interface OutboxMessage {
  stream: OutboxStream;
  subject: string;
  msgId: string;
  payload: Record<string, unknown>;
}

function streamOf(stream: OutboxStream): StreamDefinition {
  return stream === 'im-outbound' ? streams.imOutbound() : streams.confEvents();
}

/**
 * The statement that adds messages to the outbox (null: none), for a caller that sends it together
 * with its other writes. Each message is validated against its stream's schema here, so a row that
 * reaches the relay can always be published.
 */
function outboxInsert(messages: OutboxMessage[]): Statement | null {
  return insertMessages(messages, null);
}

/** `writes` followed by the outbox insert of `messages` (when there are any), for one round trip. */
export function withOutboxInsert(writes: Statement[], messages: OutboxMessage[]): Statement[] {
  const insert = outboxInsert(messages);
  return insert ? [...writes, insert] : writes;
}

/**
 * outboxInsert for messages their committing process publishes itself (OutboxHandOver): each row
 * is recorded as attempted from the start, so a relay that finds it unsent a minute later looks it
 * up in its stream first, and the statement answers the rows' ids (`id`, `msg_id`).
 */
export function handOverInsert(messages: OutboxMessage[]): Statement | null {
  const insert = insertMessages(messages, new Date());
  return insert && { sql: `${insert.sql} RETURNING id::text, msg_id`, params: insert.params };
}

function insertMessages(messages: OutboxMessage[], attemptedAt: Date | null): Statement | null {
  if (messages.length === 0) return null;
  for (const message of messages) streamOf(message.stream).schema.parse(message.payload);
  // One statement with one array parameter per column, whatever the number of rows (PostgreSQL
  // allows 65,535 parameters a statement); ids are drawn in row order, the publication order.
  return insertRowsStatement(
    'outbox',
    [
      { name: 'stream', type: 'text' },
      { name: 'subject', type: 'text' },
      { name: 'msg_id', type: 'text' },
      { name: 'payload', type: 'jsonb' },
      { name: 'conference_id', type: 'text' },
      { name: 'attempted_at', type: 'timestamptz' },
    ],
    messages.map((m) => [
      m.stream,
      m.subject,
      m.msgId,
      JSON.stringify(m.payload),
      conferenceOf(m),
      attemptedAt,
    ]),
  );
}

/** Adds messages to the outbox inside the caller's transaction (see outboxInsert). */
export async function enqueue(manager: EntityManager, messages: OutboxMessage[]): Promise<void> {
  const insert = outboxInsert(messages);
  if (insert) await manager.query(insert.sql, insert.params);
}

/** `items` in groups of equal key, each group and the groups in first-seen order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/** The relay's lock, per schema (one relay per conference-core database schema). */
const LOCK_KEY = "hashtext(current_schema() || '.outbox')";
/** Takes the relay lock and, when it was free, reads up to $1 unsent rows in id order. */
const LOCK_AND_READ = `
  WITH lock AS (SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked),
  batch AS (
    SELECT o.id, o.stream, o.subject, o.msg_id, o.payload, o.attempted_at FROM lock, outbox o
     WHERE lock.locked AND o.sent_at IS NULL ORDER BY o.id LIMIT $1),
  -- The first attempt, recorded before anything is published; the SELECT below sees the values
  -- from before this statement (one snapshot), so attempted_at there says "tried in an earlier pass".
  tried AS (
    UPDATE outbox SET attempted_at = now() FROM batch
     WHERE outbox.id = batch.id AND batch.attempted_at IS NULL)
  SELECT lock.locked, b.id, b.stream, b.subject, b.msg_id, b.payload, b.attempted_at,
         b.attempted_at < now() - interval '${UNCERTAIN_AFTER}' AS uncertain
    FROM lock LEFT JOIN batch b ON true
   ORDER BY b.id`;
const UNLOCK = `SELECT pg_advisory_unlock(${LOCK_KEY})`;

export interface OutboxRow {
  id: string;
  stream: OutboxStream;
  subject: string;
  msg_id: string;
  payload: object;
  /** When an earlier pass first tried to publish it (null: never). */
  attempted_at: Date | null;
  /** Tried more than UNCERTAIN_AFTER ago: its stream may hold it beyond the duplicate window. */
  uncertain: boolean | null;
}

const MARK_SENT = 'UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])';
/**
 * The timer's question, every second on every replica: prepared (parsed and planned once). Rows
 * committed in the last seconds are being handed over by their process (OutboxHandOver) or were
 * kicked for; what a crash left is older.
 */
const ANY_UNSENT = `SELECT EXISTS (SELECT 1 FROM outbox
  WHERE sent_at IS NULL AND created_at < now() - interval '2 seconds') AS unsent`;

@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** The kick again after a pass found the lock held (one at a time). */
  private lockedRetry: NodeJS.Timeout | undefined;
  private lastCleanup = 0;
  /** When the last pass began (the timer's poll is skipped while passes run anyway). */
  private lastPass = 0;
  /** Passes one after another (kicks and drain): they share the relay's connection and its lock. */
  private passes: Promise<unknown> = Promise.resolve();
  /** Rows published by their committing process, to be marked sent by the next mark (markSent). */
  private toMark: { ids: string[]; done: Promise<void>; now: () => void } | null = null;
  /** The relay's own connection (the lock is the session's); replaced after any database error. */
  private connection: { client: PoolClient; release: (error?: unknown) => void } | null = null;

  /** The fast path: a decision's rows published by the process that committed them. */
  readonly handOver = new OutboxHandOver(this);

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: JetStreamBus,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.lockedRetry);
    this.toMark?.now(); // marks gathered so far go now; later ones at once (stopped)
    await this.handOver.stop();
    await this.running;
    await this.toMark?.done.catch(() => undefined);
    await this.passes;
    // Closed, not pooled: the session has its own settings (synchronous_commit) and maybe the lock.
    this.connection?.release(true);
    this.connection = null;
  }

  /**
   * The timer's pass, for rows nobody kicked for (a crash, another replica): skipped while passes
   * run anyway, and when one read finds nothing unsent — what an idle relay costs.
   */
  private async poll(): Promise<void> {
    if (this.running || this.stopped || Date.now() - this.lastPass < POLL_MS) return;
    try {
      const [row] = await preparedQuery<{ unsent: boolean }>(this.dataSource, ANY_UNSENT, []);
      if (row?.unsent) this.kick();
    } catch (error) {
      logger().warn({ err: error }, 'outbox relay could not look for unsent rows; retrying');
    }
  }

  /** Asks for a pass; passes never overlap, and a kick during a pass runs one more. */
  kick(): void {
    if (this.stopped) return;
    this.again = true;
    this.running ??= this.runPasses();
  }

  /**
   * Passes until one ran with no kick during it. `running` is cleared in the same step as the last
   * look at `again`: cleared a microtask later (in a `finally`), a kick in between was lost and its
   * rows waited for the timer.
   */
  private async runPasses(): Promise<void> {
    await Promise.resolve(); // `running` is set before the loop can end
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        while ((await this.relayBatch()) === BATCH && !this.stopped);
      } catch (error) {
        logger().error({ err: error }, 'outbox relay pass failed; retrying on the next pass');
      }
    }
    this.running = null;
  }

  /**
   * Relays every row committed so far before resolving (a replica taking over a partition calls it
   * first, so what a dead replica committed but never published goes out before anything newer).
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    await this.running;
    while (!this.stopped && Date.now() < until) {
      const relayed = await this.relayBatch(true);
      if (relayed === 'locked') await new Promise((resolve) => setTimeout(resolve, 50));
      else if (relayed < BATCH) return;
    }
  }

  /**
   * Marks rows sent that their committing process published (OutboxHandOver). Marks are gathered
   * and written by one statement, on the relay's connection after the pass in progress: MARK_DELAY_MS
   * after the first, or in the next turn of the event loop once MARK_AT_ONCE rows wait (a busy
   * conference's unsent list must stay short: a claim lists at most 64). Under light load this takes
   * a round trip, and a PostgreSQL transaction, off most messages (docs/performance.md).
   */
  markSent(ids: string[]): Promise<void> {
    if (!this.toMark) {
      let now!: () => void;
      const due = new Promise<void>((resolve) => (now = resolve));
      const timer = setTimeout(now, MARK_DELAY_MS);
      const batch = { ids: [] as string[], done: Promise.resolve(), now };
      batch.done = due.then(() => {
        clearTimeout(timer);
        this.toMark = null;
        const marked = this.passes.then(() => this.mark(batch.ids));
        this.passes = marked.catch(() => undefined);
        return marked;
      });
      this.toMark = batch;
    }
    const batch = this.toMark;
    batch.ids.push(...ids);
    if (batch.ids.length >= MARK_AT_ONCE || this.stopped) setImmediate(batch.now);
    return batch.done;
  }

  private async mark(ids: string[]): Promise<void> {
    const client = await this.client();
    try {
      await queryPrepared(client, MARK_SENT, [ids]);
    } catch (error) {
      this.dropConnection(error);
      throw error;
    }
  }

  /** Publishes up to BATCH unsent rows in order; returns how many ('locked': another replica is relaying). */
  private relayBatch(reportLocked: true): Promise<number | 'locked'>;
  private relayBatch(): Promise<number>;
  private relayBatch(reportLocked = false): Promise<number | 'locked'> {
    const pass = this.passes.then(() => this.pass(reportLocked));
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async pass(reportLocked: boolean): Promise<number | 'locked'> {
    this.lastPass = Date.now();
    const client = await this.client();
    let rows: OutboxRow[];
    try {
      const read = await queryPrepared<OutboxRow & { locked: boolean }>(client, LOCK_AND_READ, [BATCH]);
      if (!read[0]?.locked) {
        if (reportLocked) return 'locked';
        this.lockedRetry ??= setTimeout(() => {
          this.lockedRetry = undefined;
          this.kick();
        }, LOCKED_RETRY_MS);
        return 0;
      }
      rows = read.filter((row) => row.id !== null);
    } catch (error) {
      this.dropConnection(error);
      throw error;
    }
    try {
      await this.publishInOrder(rows);
    } catch (error) {
      // Nothing is marked; the next pass republishes (the duplicates are dropped by Nats-Msg-Id).
      await client.query(UNLOCK).catch((unlockError: unknown) => this.dropConnection(unlockError));
      throw error;
    }
    try {
      // Marked (committed on its own), then the lock let go: both in one write (pipeline mode).
      await Promise.all(
        writtenTogether(client as unknown as PipelinedClient, () => [
          ...(rows.length > 0 ? [queryPrepared(client, MARK_SENT, [rows.map((r) => r.id)])] : []),
          client.query(UNLOCK),
        ]),
      );
      if (rows.length > 0 && Date.now() - this.lastCleanup > CLEANUP_EVERY_MS) {
        // Sent rows are kept a day for inspection.
        this.lastCleanup = Date.now();
        await client.query("DELETE FROM outbox WHERE sent_at < now() - interval '1 day'");
      }
    } catch (error) {
      this.dropConnection(error);
      throw error;
    }
    return rows.length;
  }

  /**
   * One conference's rows of one stream one after another (a publish that is retried can then
   * never be stored after a later row of its conference — seen in the chaos suite around a NATS
   * restart when they were all pipelined); different conferences, and a conference's deliveries and
   * its events (two streams, no order between them), side by side. A failure stops its group's rows
   * and fails the pass.
   */
  async publishInOrder(rows: OutboxRow[]): Promise<void> {
    const stored = await this.storedAlready(rows.filter((row) => row.uncertain));
    // Validated when enqueued (one boundary, one parse).
    const publish = async (row: OutboxRow) => {
      if (stored.has(row.msg_id)) return;
      await this.bus.publish(streamOf(row.stream), row.subject, row.payload, {
        msgId: row.msg_id,
        isValidated: true,
      });
    };
    const lanes = groupBy(rows, (row) => `${row.stream}\n${conferenceOf(row) ?? ''}`);
    const results = await Promise.allSettled(
      lanes.map(async (group) => {
        for (const row of group) await publish(row);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The msg ids of `rows` their streams already hold (looked up per stream and subject). */
  private async storedAlready(rows: OutboxRow[]): Promise<Set<string>> {
    const stored = new Set<string>();
    if (rows.length === 0) return stored;
    for (const group of groupBy(rows, (row) => `${row.stream}\n${row.subject}`)) {
      const first = Math.min(...group.map((row) => row.attempted_at!.getTime()));
      const found = await this.bus.storedMsgIds(
        streamOf(group[0]!.stream).name,
        group[0]!.subject,
        new Date(first - CLOCK_SKEW_MS),
        new Set(group.map((row) => row.msg_id)),
      );
      for (const id of found) stored.add(id);
    }
    logger().warn(
      { uncertain: rows.length, alreadyStored: stored.size },
      'outbox rows tried before the duplicate window ran out: looked up in their streams',
    );
    return stored;
  }

  private async client(): Promise<PoolClient> {
    if (!this.connection) {
      const driver = this.dataSource.driver as unknown as {
        obtainMasterConnection(): Promise<[PoolClient, (error?: unknown) => void]>;
      };
      const [client, release] = await driver.obtainMasterConnection();
      // An idle client's connection error must not crash the process; the next query fails instead.
      client.on('error', (error) => logger().warn({ err: error }, 'outbox relay connection failed'));
      try {
        // "Sent" marks need not wait for the WAL flush: one lost in a database crash republishes
        // its rows, whose copies JetStream's duplicate window drops. (Decisions commit synchronously.)
        await client.query('SET synchronous_commit = off');
        // Its statements are written without waiting for the one before (never given back to the
        // pool: dropConnection and onModuleDestroy close it).
        (client as unknown as PipelinedClient).pipeline = true;
      } catch (error) {
        release(error);
        throw error;
      }
      this.connection = { client, release };
    }
    return this.connection.client;
  }

  /** Gives a failed connection back to be closed (its session lock goes with it). */
  private dropConnection(error: unknown): void {
    this.connection?.release(error instanceof Error ? error : new Error(String(error)));
    this.connection = null;
  }
}
