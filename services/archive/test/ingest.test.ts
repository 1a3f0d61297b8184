/**
 * The archive's ingest (`consumeConferenceEvents`: DurableConsumer in batch mode over ArchiveStore)
 * against real NATS and a real PostgreSQL, reached through a TCP proxy the test can cut to make
 * PostgreSQL go away and come back.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { HEADERS, dlqStream, subjects, type ConferenceEventV1 } from '@parley/contracts';
import { createServiceDataSource, initializeAndMigrate } from '@parley/persistence';
import { testEnv, testSchema, waitFor } from '@parley/testing';
import { ArchiveStore } from '../src/archive/archive-store.js';
import { consumeConferenceEvents } from '../src/ingest/conference-events.consumer.js';
import { migrations } from '../src/migrations/index.js';
import { confEventsPublisher, message } from './factories.js';

/**
 * A TCP proxy to PostgreSQL. `cut()` drops every connection and refuses new ones (counting the
 * attempts) until `restore()`: from the archive's side, the database is down.
 */
async function postgresProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let isCut = false;
  let refused = 0;
  const server = net.createServer((client) => {
    if (isCut) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => (sockets.delete(a), b.destroy()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  const cut = () => {
    isCut = true;
    refused = 0;
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: url.toString(),
    get refused() {
      return refused;
    },
    cut,
    restore() {
      isCut = false;
    },
    close() {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the archive's ingest against real NATS and PostgreSQL", () => {
  const BATCH_SIZE = 20;
  let publisher: Awaited<ReturnType<typeof confEventsPublisher>>;
  let proxy: Awaited<ReturnType<typeof postgresProxy>>;
  let archiveDb: DataSource;
  let db: pg.Client;
  let consumer: Awaited<ReturnType<typeof consumeConferenceEvents>> | undefined;

  async function archivedSeqs(conferenceId: string): Promise<number[]> {
    const { rows } = await db.query<{ seq: string }>(
      `SELECT seq FROM "${testSchema('archive')}".archive_event WHERE conference_id = $1 ORDER BY seq`,
      [conferenceId],
    );
    return rows.map((r) => Number(r.seq));
  }

  function waitForArchived(conferenceId: string, count: number, timeoutMs = 20_000) {
    return waitFor(
      `${count} events of ${conferenceId} in the archive`,
      async () => (await archivedSeqs(conferenceId)).length >= count,
      timeoutMs,
      50,
    );
  }

  /** Dead letters of CONF_EVENTS that came from `conferenceId`'s subject. */
  async function deadLetters(
    conferenceId: string,
  ): Promise<Array<{ seq: number | undefined; reason: string }>> {
    const dlq = await publisher.bus.js.consumers.get(dlqStream().name, { deliver_policy: 'all' });
    const found: Array<{ seq: number | undefined; reason: string }> = [];
    for (;;) {
      const msg = await dlq.next({ expires: 1_000 });
      if (!msg) break;
      if (msg.headers?.get(HEADERS.dlqSubject) === subjects.confEvents(conferenceId)) {
        let seq: number | undefined;
        try {
          seq = msg.json<ConferenceEventV1>().seq;
        } catch {
          seq = undefined; // not JSON: the malformed one
        }
        found.push({ seq, reason: msg.headers.get(HEADERS.dlqReason) });
      }
      if (msg.info.pending === 0) break;
    }
    return found;
  }

  const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  beforeAll(async () => {
    publisher = await confEventsPublisher();
    proxy = await postgresProxy(new URL(testEnv.databaseUrl()));
    archiveDb = await initializeAndMigrate(
      createServiceDataSource({ url: proxy.url, schema: testSchema('archive'), entities: [], migrations }),
    );
    db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();

    // A backlog waiting before the archive starts, so lanes take it in batches: 3 conferences × 50
    // events (one of them also delivered twice under another message id), with a malformed message
    // in the middle; and a conference whose event 3 PostgreSQL refuses to store.
    const again = message('burst-a', 10, 'm10');
    for (const seq of seqs(1, 50)) {
      await Promise.all(
        ['burst-a', 'burst-b', 'burst-c'].map((c) =>
          publisher.publish(c === 'burst-a' && seq === 10 ? again : message(c, seq, `m${seq}`)),
        ),
      );
      if (seq === 25) await publisher.bus.js.publish(subjects.confEvents('burst-b'), 'not json {');
    }
    // The same event (same id) again: the archive must store it once.
    await publisher.publish(again, `${again.id}-retry`);
    for (const seq of seqs(1, 5)) {
      // A NUL character passes the schema, but PostgreSQL text cannot hold it.
      await publisher.publish(message('mixed', seq, seq === 3 ? 'nul \u0000 inside' : `m${seq}`));
    }

    consumer = await consumeConferenceEvents(publisher.bus, new ArchiveStore(archiveDb), {
      batchSize: BATCH_SIZE,
      maxDeliver: 3,
      backoffMs: [20],
    });
  });

  afterAll(async () => {
    await consumer?.stop();
    await archiveDb?.destroy();
    await proxy?.close();
    await db?.end();
    await publisher?.bus.close();
  });

  it('stores every event of a backlog once, and dead-letters a malformed message without holding up the rest', async () => {
    for (const conference of ['burst-a', 'burst-b', 'burst-c']) await waitForArchived(conference, 50);
    for (const conference of ['burst-a', 'burst-b', 'burst-c']) {
      expect(await archivedSeqs(conference)).toEqual(seqs(1, 50));
    }
    expect(await deadLetters('burst-b')).toEqual([
      { seq: undefined, reason: expect.stringMatching(/^schema-invalid: /) as string },
    ]);
    expect(await deadLetters('burst-a')).toEqual([]);
  });

  it('stores the good events of a batch that PostgreSQL refuses, and dead-letters the bad one', async () => {
    await waitForArchived('mixed', 4);
    expect(await archivedSeqs('mixed')).toEqual([1, 2, 4, 5]);
    expect(await deadLetters('mixed')).toEqual([
      { seq: 3, reason: 'exhausted after 3 attempts: unsupported Unicode escape sequence' },
    ]);
  });

  it('keeps the events published while PostgreSQL is down and stores them once it is back', async () => {
    proxy.cut();
    for (const seq of seqs(1, 30)) await publisher.publish(message('outage', seq, `m${seq}`));
    // Many more attempts than maxDeliver (3): had the outage counted against the events, they
    // would be dead letters by now.
    await waitFor('the archive to retry through the outage', () => proxy.refused >= 8, 30_000);
    proxy.restore();
    await waitForArchived('outage', 30, 60_000);
    expect(await archivedSeqs('outage')).toEqual(seqs(1, 30));
    expect(await deadLetters('outage')).toEqual([]);
  });
});
