/**
 * Publishes the outbox to JetStream in id order and marks rows sent. A pass runs after every
 * committed decision (kick) and on a timer (rows left by a crash, or by another replica). A
 * transaction-scoped advisory lock lets one replica relay at a time; per conference, the row lock
 * of each decision makes id order the commit order. In a batch, each conference's rows are
 * published one after another and different conferences' side by side, so a retried publish is
 * never stored behind a later row of its own conference. A crash between publish and "sent" republishes with the same Nats-Msg-Id, which
 * JetStream's duplicate window drops.
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { JetStreamBus } from '@parley/bus';
import { streams, type StreamDefinition } from '@parley/contracts';
import { logger } from '@parley/observability';
import type { OutboxStream } from './outbox.entity.js';

const BATCH = 256;
const POLL_MS = 1_000;
const CLEANUP_EVERY_MS = 10 * 60_000;

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
 * Adds messages to the outbox inside the caller's transaction. Each is validated against its
 * stream's schema here, so a row that reaches the relay can always be published.
 */
export async function enqueue(manager: EntityManager, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  for (const message of messages) streamOf(message.stream).schema.parse(message.payload);
  const params: unknown[] = [];
  const rows = messages.map((m, i) => {
    params.push(m.stream, m.subject, m.msgId, JSON.stringify(m.payload));
    return `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4}::jsonb)`;
  });
  // One statement: ids are drawn in VALUES order, which is the publication order.
  await manager.query(
    `INSERT INTO outbox (stream, subject, msg_id, payload) VALUES ${rows.join(', ')}`,
    params,
  );
}

@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastCleanup = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: JetStreamBus,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Asks for a pass; passes never overlap, and a kick during a pass runs one more. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while ((await this.relayBatch()) === BATCH && !this.stopped);
        } catch (error) {
          logger().error({ err: error }, 'outbox relay pass failed; retrying on the next pass');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
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

  /** Publishes up to BATCH unsent rows in order; returns how many ('locked': another replica is relaying). */
  private relayBatch(reportLocked: true): Promise<number | 'locked'>;
  private relayBatch(): Promise<number>;
  private relayBatch(reportLocked = false): Promise<number | 'locked'> {
    return this.dataSource.transaction(async (manager) => {
      const [lock] = (await manager.query(
        "SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.outbox')) AS locked",
      )) as Array<{ locked: boolean }>;
      if (!lock?.locked) return reportLocked ? 'locked' : 0;
      const rows = (await manager.query(
        'SELECT id, stream, subject, msg_id, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1',
        [BATCH],
      )) as Array<{ id: string; stream: OutboxStream; subject: string; msg_id: string; payload: object }>;
      // Validated when enqueued (one boundary, one parse).
      const publish = (row: (typeof rows)[number]) =>
        this.bus.publish(streamOf(row.stream), row.subject, row.payload, {
          msgId: row.msg_id,
          isValidated: true,
        });
      // One conference's rows one after another (a publish that is retried can then never be stored
      // after a later row of its conference — seen in the chaos suite around a NATS restart when
      // they were all pipelined); different conferences side by side. A failure stops its
      // conference's rows and fails the pass: nothing is marked, the next pass republishes (the
      // duplicates are dropped by Nats-Msg-Id).
      const byConference = new Map<string, typeof rows>();
      for (const row of rows) {
        const key = (row.payload as { conferenceId?: string }).conferenceId ?? '';
        byConference.set(key, [...(byConference.get(key) ?? []), row]);
      }
      const results = await Promise.allSettled(
        [...byConference.values()].map(async (group) => {
          for (const row of group) await publish(row);
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (rows.length > 0) {
        await manager.query('UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', [
          rows.map((r) => r.id),
        ]);
        if (Date.now() - this.lastCleanup > CLEANUP_EVERY_MS) {
          // Sent rows are kept a day for inspection.
          this.lastCleanup = Date.now();
          await manager.query("DELETE FROM outbox WHERE sent_at < now() - interval '1 day'");
        }
      }
      return rows.length;
    });
  }
}
