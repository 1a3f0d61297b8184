/**
 * Sequence reuse (issue 14) at the store, against a real PostgreSQL: conference-core hands out a
 * seq again after a failover lost the commit that had taken it. The archive keeps both events —
 * the later one after the first, under the next `collision` — while a redelivered event is still
 * stored once; every read, cursor, retention and the migration of an existing archive agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import type { ConferenceEventV1 } from '@parley/contracts';
import { createServiceDataSource, initializeAndMigrate } from '@parley/persistence';
import { testEnv, testSchema } from '@parley/testing';
import { ArchiveStore } from '../src/archive/archive-store.js';
import { HistoryService } from '../src/history/history.service.js';
import { migrations } from '../src/migrations/index.js';
import { alice, bob, message, notice } from './factories.js';

const HOUR = 3_600_000;

const ids = (events: ConferenceEventV1[]) => events.map((e) => e.id);

function archiveDataSource(schema: string, upTo = migrations.length): Promise<DataSource> {
  return initializeAndMigrate(
    createServiceDataSource({
      url: testEnv.databaseUrl(),
      schema: testSchema(schema),
      entities: [],
      migrations: migrations.slice(0, upTo),
    }),
  );
}

describe('an event that reuses a taken seq, at the store against real PostgreSQL', () => {
  let db: DataSource;
  let store: ArchiveStore;

  /** (seq, collision, event id) of every row of a conference, in the order reads use. */
  async function rows(conferenceId: string) {
    const found: Array<{ seq: string; collision: number; event_id: string }> = await db.query(
      'SELECT seq, collision, event_id FROM archive_event WHERE conference_id = $1 ORDER BY seq, collision',
      [conferenceId],
    );
    return found.map((r) => [Number(r.seq), r.collision, r.event_id]);
  }

  beforeAll(async () => {
    db = await archiveDataSource('archive');
    store = new ArchiveStore(db);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('stores a redelivered event once, and keeps a different event under a taken seq after the first', async () => {
    const [first, second, third] = [1, 2, 3].map((seq) => message('failover', seq, `before ${seq}`));
    expect(await store.insertEvents([first!, second!, third!])).toEqual({ inserted: 3, reused: [] });

    // After the failover conference-core hands out 3 again, for another message.
    const reuse = message('failover', 3, 'after the failover');
    const fourth = message('failover', 4, 'after the failover too');
    expect(await store.insertEvents([third!, reuse, fourth])).toEqual({
      inserted: 2,
      reused: [
        { conferenceId: 'failover', seq: 3, collision: 1, eventId: reuse.id, firstEventId: third!.id },
      ],
    });
    // Both again (a redelivery of the batch): nothing new, nothing reported.
    expect(await store.insertEvents([third!, reuse, fourth])).toEqual({ inserted: 0, reused: [] });
    expect(await store.insertEvents([reuse])).toEqual({ inserted: 0, reused: [] });

    expect(await rows('failover')).toEqual([
      [1, 0, first!.id],
      [2, 0, second!.id],
      [3, 0, third!.id],
      [3, 1, reuse.id],
      [4, 0, fourth.id],
    ]);
  });

  it('numbers different events with the same seq in one batch in batch order, and stores a copy in it once', async () => {
    const taken = message('same-batch', 1, 'first under 1');
    const reuseA = message('same-batch', 1, 'second under 1');
    const reuseB = message('same-batch', 1, 'third under 1');
    const other = message('same-batch', 2, 'alone under 2');
    const result = await store.insertEvents([taken, reuseA, other, taken, reuseB, reuseA]);
    expect(result.inserted).toBe(4);
    expect(result.reused).toEqual([
      { conferenceId: 'same-batch', seq: 1, collision: 1, eventId: reuseA.id, firstEventId: taken.id },
      { conferenceId: 'same-batch', seq: 1, collision: 2, eventId: reuseB.id, firstEventId: taken.id },
    ]);
    expect(await rows('same-batch')).toEqual([
      [1, 0, taken.id],
      [1, 1, reuseA.id],
      [1, 2, reuseB.id],
      [2, 0, other.id],
    ]);
  });

  it('reads every event of a reused seq in order: latest, count, pages whose cursors stay valid, search', async () => {
    const events = [1, 2, 3, 4].map((seq) => message('reads', seq, `word ${seq}`));
    await store.insertEvents(events);

    // A reader is part-way through, its cursor after seq 2; then an event reusing seq 4 arrives.
    const firstPage = await store.page('reads', {}, 2);
    expect(firstPage.events.map((e) => e.seq)).toEqual([1, 2]);
    const reuse = message('reads', 4, 'word reused');
    await store.insertEvents([reuse]);

    const rest = await store.page('reads', {}, 2, firstPage.nextCursor!);
    expect(ids(rest.events)).toEqual(ids([events[2]!, events[3]!]));
    const last = await store.page('reads', {}, 2, rest.nextCursor!);
    expect(ids(last.events)).toEqual([reuse.id]);
    expect(last.nextCursor).toBeNull();

    // One at a time: a cursor that ends between the two events of seq 4.
    const walked: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.page('reads', {}, 1, cursor);
      walked.push(...ids(page.events));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(walked).toEqual(ids([...events, reuse]));

    expect(ids(await store.latest('reads', {}, 2))).toEqual(ids([events[3]!, reuse]));
    expect(ids(await store.latest('reads', { messagesOnly: true }, 10))).toEqual(ids([...events, reuse]));
    expect(await store.count('reads', {})).toBe(5);
    const search = await store.latestWithTotal('reads', { q: 'word' }, 2);
    expect({ ...search, events: ids(search.events) }).toEqual({
      events: ids([events[3]!, reuse]),
      total: 5,
      truncated: true,
    });
  });

  it('shows a participant what reused the seq of their leaving as said after they left', async () => {
    const before = message('left', 1, 'before bob left');
    const left = notice('left', 2, 'participant-left', bob);
    // conference-core lost bob's leaving and gave seq 2 to alice's next message.
    const reuse = message('left', 2, 'said after bob left', { sender: alice });
    const after = message('left', 3, 'later still');
    await store.insertEvents([before, left, reuse, after]);

    const answer = await new HistoryService(store).history('left', bob, '');
    expect(answer.lines.map((line) => line.replace(/^\S+ \S+ /, ''))).toEqual([
      'alice (xmpp): said after bob left',
      'alice (xmpp): later still',
    ]);
    expect((await store.counts('left')).map((c) => c.messages)).toEqual([3]);
  });

  it('expires the first event of a reused seq by its own age, keeping the younger one that reused it', async () => {
    const now = Date.now();
    const old = message('expiring-reuse', 1, 'old', { at: new Date(now - 48 * HOUR) });
    const young = message('expiring-reuse', 1, 'young', { at: new Date(now - HOUR) });
    await store.insertEvents([old, young]);
    expect(await store.deleteOlderThan('expiring-reuse', new Date(now - 24 * HOUR))).toBe(1);
    expect(await rows('expiring-reuse')).toEqual([[1, 1, young.id]]);
    // The survivor's position stays: a redelivery of either is not stored again.
    expect(await store.insertEvents([young])).toEqual({ inserted: 0, reused: [] });
  });

  it('forgets every event of a forgotten conference, reused seqs included, and stores none afterwards', async () => {
    const taken = message('forgotten-reuse', 1, 'first');
    const reuse = message('forgotten-reuse', 1, 'second');
    await store.insertEvents([taken, reuse]);
    expect(await store.forgetConferences(['forgotten-reuse'])).toBe(2);
    expect(await store.insertEvents([message('forgotten-reuse', 1, 'late')])).toEqual({
      inserted: 0,
      reused: [],
    });
    expect(await rows('forgotten-reuse')).toEqual([]);
  });
});

describe('the migration of an archive that holds events', () => {
  it('keeps every event under collision 0, after which a reused seq is kept and a redelivery is not', async () => {
    // The archive as it was before: keyed by (conference_id, seq).
    const before = await archiveDataSource('archive_upgrade', migrations.length - 1);
    const events = [1, 2].map((seq) => message('upgraded', seq, `m${seq}`));
    await before.query(
      `INSERT INTO archive_event (conference_id, seq, event_id, type, occurred_at, payload, payload_bytes)
       SELECT e->>'conferenceId', (e->>'seq')::bigint, e->>'id', e->>'type', (e->>'occurredAt')::timestamptz, e, 0
       FROM jsonb_array_elements($1::jsonb) e`,
      [JSON.stringify(events)],
    );
    await before.destroy();

    const after = await archiveDataSource('archive_upgrade');
    try {
      const store = new ArchiveStore(after);
      const reuse = message('upgraded', 2, 'reused');
      expect(await store.insertEvents([...events, reuse])).toEqual({
        inserted: 1,
        reused: [
          { conferenceId: 'upgraded', seq: 2, collision: 1, eventId: reuse.id, firstEventId: events[1]!.id },
        ],
      });
      expect(ids((await store.page('upgraded', {}, 10)).events)).toEqual(ids([...events, reuse]));
    } finally {
      await after.destroy();
    }
  });
});
