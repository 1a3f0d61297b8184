import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RpcClient } from '@parley/bus';
import {
  HEADERS,
  archiveCountsRpc,
  archiveExportRpc,
  archiveGetSettingsRpc,
  archiveHistoryCommandRpc,
  archiveLastRpc,
  archivePageRpc,
  archiveSearchCommandRpc,
  archiveSearchRpc,
  archiveSetSettingsRpc,
  archiveWindowRpc,
  dlqStream,
  type Identity,
  subjects,
} from '@parley/contracts';
import { captureLogs } from '@parley/observability';
import { serviceTestEnv, testEnv, testSchema, waitFor, startTestService } from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';
import { RetentionService } from '../src/retention/retention.service.js';
import { alice, bob, confEventsPublisher, message, notice } from './factories.js';

const HOUR = 3_600_000;

describe('archive service against real NATS and PostgreSQL', () => {
  let app: NestFastifyApplication;
  let rpc: RpcClient;
  let db: pg.Client;
  let publisher: Awaited<ReturnType<typeof confEventsPublisher>>;

  /** Rows archived for a conference, straight from the archive's table. */
  async function archivedSeqs(conferenceId: string): Promise<number[]> {
    const { rows } = await db.query<{ seq: string }>(
      `SELECT seq FROM "${testSchema('archive')}".archive_event WHERE conference_id = $1 ORDER BY seq`,
      [conferenceId],
    );
    return rows.map((r) => Number(r.seq));
  }

  async function waitForArchived(conferenceId: string, count: number, timeoutMs = 20_000) {
    return waitFor(
      `${count} events of ${conferenceId} in the archive`,
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${testSchema('archive')}".archive_event WHERE conference_id = $1`,
          [conferenceId],
        );
        return rows[0]!.n >= count;
      },
      timeoutMs,
      50,
    );
  }

  /** Follows nextCursor from the first page to the last; every seq (and event id) handed out, in order. */
  async function walkPages(request: { conferenceId: string; limit: number; q?: string }) {
    const seqs: number[] = [];
    const ids: string[] = [];
    let pages = 0;
    let cursor: string | null = null;
    do {
      const page: { events: Array<{ seq: number; id: string }>; nextCursor: string | null } = await rpc.call(
        archivePageRpc,
        {
          ...request,
          ...(cursor ? { cursor } : {}),
        },
      );
      seqs.push(...page.events.map((e) => e.seq));
      ids.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    return { seqs, ids, pages };
  }

  /** Publishes `count` messages numbered 1..count, a window of them in flight at a time. */
  async function publishMessages(conferenceId: string, count: number, body: (seq: number) => string) {
    for (let from = 1; from <= count; from += 200) {
      const seqs = Array.from({ length: Math.min(200, count - from + 1) }, (_, i) => from + i);
      await Promise.all(seqs.map((seq) => publisher.publish(message(conferenceId, seq, body(seq)))));
    }
  }

  beforeAll(async () => {
    const config = loadServiceConfig(serviceTestEnv('archive'));
    app = await startTestService('archive', AppModule.forRoot(config));
    rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();
    publisher = await confEventsPublisher();
  });

  afterAll(async () => {
    await publisher?.bus.close();
    await rpc?.close();
    await db?.end();
    await app?.close();
  });

  it('stores each event once even when it is published and delivered twice', async () => {
    const events = [1, 2, 3].map((seq) => message('twice', seq, `hello ${seq}`));
    for (const event of events) await publisher.publish(event);
    // The same event again: once with its own id (JetStream drops it) and once under another
    // Nats-Msg-Id, so the archive really receives it a second time.
    expect((await publisher.publish(events[1]!)).duplicate).toBe(true);
    expect((await publisher.publish(events[1]!, `${events[1]!.id}-retry`)).duplicate).toBe(false);
    const marker = message('twice', 4, 'after the duplicates');
    await publisher.publish(marker);
    await waitForArchived('twice', 4);

    expect(await archivedSeqs('twice')).toEqual([1, 2, 3, 4]);
    const { events: last } = await rpc.call(archiveLastRpc, { conferenceId: 'twice', limit: 10 });
    expect(last.map((e) => e.id)).toEqual([...events, marker].map((e) => e.id));
  });

  it('keeps a different event that reuses an archived seq after the first, reports it, and stores redeliveries once', async () => {
    const conferenceId = 'seq-reuse';
    const reusedSoFar = async () => {
      const metrics = await (await fetch(`${await app.getUrl()}/metrics`)).text();
      return Number(/^parley_archive_seq_reused_total (\d+)$/m.exec(metrics)?.[1]);
    };
    const before = [1, 2, 3].map((seq) => message(conferenceId, seq, `${seq} before the failover`));
    for (const event of before) await publisher.publish(event);
    await waitForArchived(conferenceId, 3);
    const reportedBefore = await reusedSoFar();
    expect(reportedBefore).toBeGreaterThanOrEqual(0);

    const logs = captureLogs('error');
    try {
      // conference-core lost the commit of seq 3 in a failover and hands 3 out again; both the
      // original and the new event are also delivered a second time (under other message ids).
      const reuse = message(conferenceId, 3, 'after the failover', { sender: bob });
      const marker = message(conferenceId, 4, 'after the failover, next seq');
      await publisher.publish(reuse);
      await publisher.publish(before[2]!, `${before[2]!.id}-retry`);
      await publisher.publish(reuse, `${reuse.id}-retry`);
      await publisher.publish(marker);
      await waitFor(
        'the event after the reuse in the archive',
        async () => {
          const { rows } = await db.query(
            `SELECT 1 FROM "${testSchema('archive')}".archive_event WHERE conference_id = $1 AND event_id = $2`,
            [conferenceId, marker.id],
          );
          return rows.length === 1;
        },
        20_000,
        50,
      );

      const all = [...before, reuse, marker];
      expect(await archivedSeqs(conferenceId)).toEqual([1, 2, 3, 3, 4]);
      const last = await rpc.call(archiveLastRpc, { conferenceId, limit: 10 });
      expect(last.events.map((e) => e.id)).toEqual(all.map((e) => e.id));
      const latestTwo = await rpc.call(archiveLastRpc, { conferenceId, limit: 2 });
      expect(latestTwo.events.map((e) => e.id)).toEqual([reuse.id, marker.id]);
      const window = await rpc.call(archiveWindowRpc, { conferenceId, limit: 3 });
      expect(window).toMatchObject({ total: 5, truncated: true });
      expect(window.events.map((e) => e.id)).toEqual([before[2]!.id, reuse.id, marker.id]);
      const walked = await walkPages({ conferenceId, limit: 1 });
      expect(walked).toEqual({ seqs: [1, 2, 3, 3, 4], ids: all.map((e) => e.id), pages: 5 });
      const search = await rpc.call(archiveSearchRpc, { conferenceId, q: 'failover' });
      expect(search.events.map((e) => e.id)).toEqual(all.map((e) => e.id));
      const history = await rpc.call(archiveHistoryCommandRpc, {
        conferenceId,
        participant: alice,
        args: '2',
      });
      expect(history.lines.map((line) => line.replace(/^\S+ \S+ /, ''))).toEqual([
        'bob (irc): after the failover',
        'alice (xmpp): after the failover, next seq',
      ]);

      // Said once, as an error, with both event ids and no message body.
      expect(await reusedSoFar()).toBe(reportedBefore + 1);
      const reported = logs
        .lines()
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.conferenceId === conferenceId);
      expect(reported).toEqual([
        expect.objectContaining({
          level: 50,
          conferenceId,
          seq: 3,
          collision: 1,
          eventId: reuse.id,
          firstEventId: before[2]!.id,
        }),
      ]);
      expect(logs.text()).not.toContain('after the failover');
    } finally {
      logs.stop();
    }
  });

  it('dead-letters an invalid event and still archives the valid one behind it', async () => {
    const subject = subjects.confEvents('poison');
    await publisher.bus.js.publish(subject, JSON.stringify({ id: 'bad', conferenceId: 'poison', seq: 0 }));
    await publisher.publish(message('poison', 1, 'still here'));
    await waitForArchived('poison', 1);
    expect(await archivedSeqs('poison')).toEqual([1]);

    const dlq = await publisher.bus.js.consumers.get(dlqStream().name, { deliver_policy: 'all' });
    const dead = await dlq.next({ expires: 5_000 });
    expect(dead?.json<{ id: string }>().id).toBe('bad');
    expect(dead?.headers?.get(HEADERS.dlqSubject)).toBe(subject);
  });

  describe('reading a conversation', () => {
    const now = Date.now();
    const at = (msAgo: number) => new Date(now - msAgo);
    const conversation = [
      notice('talk', 1, 'participant-joined', alice, at(30 * HOUR)),
      message('talk', 2, 'good morning, the deploy is at noon', { at: at(26 * HOUR) }),
      notice('talk', 3, 'participant-joined', bob, at(25 * HOUR)),
      message('talk', 4, 'the build runs green', { sender: bob, at: at(6 * HOUR) }),
      notice('talk', 5, 'participant-left', bob, at(4 * HOUR)),
      message('talk', 6, 'deploy moved to 15:00', { at: at(3 * HOUR) }),
      message('talk', 7, 'ok, running the migration now', { at: at(2 * HOUR) }),
      message('talk', 8, 'done', { at: at(10 * 60_000) }),
    ];
    const ids = (seqs: number[]) => seqs.map((s) => conversation[s - 1]!.id);

    beforeAll(async () => {
      // Published out of order: the archive answers in seq order whatever the arrival order.
      for (const event of [...conversation].reverse()) await publisher.publish(event);
      await waitForArchived('talk', conversation.length);
    });

    it('answers the last N events, or the last N messages', async () => {
      const all = await rpc.call(archiveLastRpc, { conferenceId: 'talk', limit: 3 });
      expect(all.events.map((e) => e.id)).toEqual(ids([6, 7, 8]));
      const messages = await rpc.call(archiveLastRpc, { conferenceId: 'talk', limit: 3, messagesOnly: true });
      expect(messages.events.map((e) => e.seq)).toEqual([6, 7, 8]);
      const notices = await rpc.call(archiveLastRpc, { conferenceId: 'talk', limit: 5, messagesOnly: true });
      expect(notices.events.map((e) => e.seq)).toEqual([2, 4, 6, 7, 8]);
    });

    it('answers a time window, the latest first when capped, with the total', async () => {
      const window = await rpc.call(archiveWindowRpc, {
        conferenceId: 'talk',
        since: at(5 * HOUR).toISOString(),
        until: at(HOUR).toISOString(),
      });
      expect(window).toMatchObject({ total: 3, truncated: false });
      expect(window.events.map((e) => e.id)).toEqual(ids([5, 6, 7]));
      const capped = await rpc.call(archiveWindowRpc, {
        conferenceId: 'talk',
        since: at(27 * HOUR).toISOString(),
        limit: 2,
        messagesOnly: true,
      });
      expect(capped).toMatchObject({ total: 5, truncated: true });
      expect(capped.events.map((e) => e.seq)).toEqual([7, 8]);
    });

    it('finds messages by words, and by stems once the conference has a language', async () => {
      const deploy = await rpc.call(archiveSearchRpc, { conferenceId: 'talk', q: 'Deploy' });
      expect(deploy.events.map((e) => e.id)).toEqual(ids([2, 6]));
      const before = await rpc.call(archiveSearchRpc, { conferenceId: 'talk', q: 'run' });
      expect(before.events).toEqual([]);

      const settings = await rpc.call(archiveSetSettingsRpc, { conferenceId: 'talk', language: 'english' });
      expect(settings).toEqual({ conferenceId: 'talk', retentionSeconds: null, language: 'english' });
      const after = await rpc.call(archiveSearchRpc, { conferenceId: 'talk', q: 'run' });
      expect(after.events.map((e) => e.seq)).toEqual([4, 7]);
      const none = await rpc.call(archiveSearchRpc, { conferenceId: 'talk', q: 'lunch' });
      expect(none).toEqual({ events: [], total: 0, truncated: false });
      await rpc.call(archiveSetSettingsRpc, { conferenceId: 'talk', language: null });
    });

    it('counts messages per participant', async () => {
      const { participants } = await rpc.call(archiveCountsRpc, { conferenceId: 'talk' });
      expect(participants).toEqual([
        { ...alice, messages: 4, lastMessageAt: conversation[7]!.occurredAt },
        { ...bob, messages: 1, lastMessageAt: conversation[3]!.occurredAt },
      ]);
    });

    it('answers the bot commands /history, /history 2, /history 5 hours and /search with exactly the expected lines', async () => {
      const line = (seq: number) => {
        const event = conversation[seq - 1]!;
        if (event.type !== 'message-accepted') throw new Error('not a message');
        const iso = new Date(event.occurredAt).toISOString();
        return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z ${event.sender.displayName} (${event.sender.network}): ${event.body}`;
      };
      const call = (args: string, participant: Identity = alice) =>
        rpc.call(archiveHistoryCommandRpc, { conferenceId: 'talk', participant, args });

      expect((await call('')).lines).toEqual([2, 4, 6, 7, 8].map(line));
      // bob left at seq 5: his /history shows what he missed since.
      expect((await call('', bob)).lines).toEqual([6, 7, 8].map(line));
      expect((await call('2')).lines).toEqual([7, 8].map(line));
      const fiveHours = await call('5 hours');
      expect(fiveHours.lines).toEqual([6, 7, 8].map(line));
      expect(fiveHours.messages).toEqual([[6, 7, 8].map(line).join('\n')]);
      expect((await call('30 minutes')).lines).toEqual([line(8)]);
      expect((await call('5 fortnights')).lines).toEqual([
        '"fortnights" is not a unit; try /history, /history 20, /history 30 minutes, /history 5 hours, /history 2 days or /history 1 week',
      ]);

      const search = await rpc.call(archiveSearchCommandRpc, { conferenceId: 'talk', args: 'deploy' });
      expect(search.lines).toEqual([line(2), line(6)]);
      const nothing = await rpc.call(archiveSearchCommandRpc, { conferenceId: 'talk', args: 'lunch' });
      expect(nothing.lines).toEqual(['no messages match "lunch"']);
    });
  });

  it('pages through 1,000 messages with cursors without gaps or repeats', async () => {
    const total = 1_000;
    await publishMessages('paging', total, (seq) => `message ${seq}`);
    await waitForArchived('paging', total);

    const all = await walkPages({ conferenceId: 'paging', limit: 37 });
    expect(all.pages).toBe(Math.ceil(total / 37));
    expect(all.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    // A filtered walk pages the same way: the messages containing the word "999".
    expect((await walkPages({ conferenceId: 'paging', q: '999', limit: 1 })).seqs).toEqual([999]);

    const otherConference = await rpc.call(archivePageRpc, { conferenceId: 'paging', limit: 1 });
    await expect(
      rpc.call(archivePageRpc, { conferenceId: 'talk', cursor: otherConference.nextCursor! }),
    ).rejects.toMatchObject({ code: 'validation-failed', field: 'cursor' });
  });

  it('exports 10,000 messages page by page while the heap stays bounded', async () => {
    const total = 10_000;
    const body = 'x'.repeat(2_000);
    await publishMessages('export', total, (seq) => `${seq} ${body}`);
    await waitForArchived('export', total, 60_000);

    // Measure the live heap (after a full GC) every 10 pages, in this process which runs both the
    // service and the caller: it must not grow with what was exported (> 20 MB in all).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let maxGrowth = 0;
    let exported = 0;
    let exportedBytes = 0;
    let lastSeq = 0;
    let inOrder = true;
    let pages = 0;
    let cursor: string | undefined;
    do {
      const page = await rpc.call(archiveExportRpc, {
        conferenceId: 'export',
        ...(cursor ? { cursor } : {}),
      });
      for (const event of page.events) {
        inOrder &&= event.seq === lastSeq + 1;
        lastSeq = event.seq;
        exportedBytes += JSON.stringify(event).length + 1;
      }
      exported += page.events.length;
      cursor = page.nextCursor ?? undefined;
      if (++pages % 10 !== 0 && cursor) continue;
      gc();
      maxGrowth = Math.max(maxGrowth, process.memoryUsage().heapUsed - baseline);
    } while (cursor);

    expect(exported).toBe(total);
    expect(inOrder).toBe(true);
    expect(exportedBytes).toBeGreaterThan(20_000_000);
    expect(maxGrowth).toBeLessThan(8 * 1024 * 1024);
  });

  it('keeps everything by default and deletes events older than a conference retention period', async () => {
    const now = Date.now();
    await publisher.publish(message('kept', 1, 'old but kept', { at: new Date(now - 48 * HOUR) }));
    for (const [seq, hoursAgo] of [
      [1, 48],
      [2, 3],
      [3, 0.5],
    ] as const) {
      await publisher.publish(
        message('expiring', seq, `${hoursAgo} hours ago`, { at: new Date(now - hoursAgo * HOUR) }),
      );
    }
    await waitForArchived('kept', 1);
    await waitForArchived('expiring', 3);
    expect(await rpc.call(archiveGetSettingsRpc, { conferenceId: 'kept' })).toEqual({
      conferenceId: 'kept',
      retentionSeconds: null,
      language: null,
    });
    await rpc.call(archiveSetSettingsRpc, { conferenceId: 'expiring', retentionSeconds: 2 * 3600 });

    const deleted = await app.get(RetentionService).deleteExpired(new Date(now));
    expect(deleted).toBe(2);
    expect(await archivedSeqs('expiring')).toEqual([3]);
    expect(await archivedSeqs('kept')).toEqual([1]);
  });
});
