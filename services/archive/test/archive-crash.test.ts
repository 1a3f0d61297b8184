import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { RpcClient } from '@parley/bus';
import { archiveExportRpc, consumers, streams, type ConferenceEventV1 } from '@parley/contracts';
import { spawnServiceReady, testEnv, testSchema, waitFor, type ServiceProcess } from '@parley/testing';
import { confEventsPublisher, message } from './factories.js';

describe('archive service killed with SIGKILL mid-stream', () => {
  let rpc: RpcClient;
  let db: pg.Client;
  let publisher: Awaited<ReturnType<typeof confEventsPublisher>>;
  const children: ServiceProcess[] = [];

  async function archivedCount(conferenceId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${testSchema('archive')}".archive_event WHERE conference_id = $1`,
      [conferenceId],
    );
    return rows[0]!.n;
  }

  async function startAndWaitReady() {
    const started = await spawnServiceReady('archive', rpc, {
      // After the crash, what was delivered but not acked comes back after ack_wait.
      PARLEY_ARCHIVE_ACK_WAIT_MS: '2000',
    });
    children.push(started);
    return started;
  }

  beforeAll(async () => {
    rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();
    publisher = await confEventsPublisher();
  });

  afterAll(async () => {
    for (const { child, exited } of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    }
    await publisher?.bus.close();
    await rpc?.close();
    await db?.end();
  });

  it('holds each of 500 events exactly once, in seq order, after a kill -9 and a restart', async () => {
    const total = 500;
    const events: ConferenceEventV1[] = Array.from({ length: total }, (_, i) =>
      message('crash', i + 1, `message ${i + 1}`),
    );
    const first = await startAndWaitReady();

    for (const event of events.slice(0, 250)) await publisher.publish(event);
    await waitFor(
      'the archive to be storing events',
      async () => (await archivedCount('crash')) >= 100,
      20_000,
      5,
    );
    // Publishing goes on while the archive dies.
    const rest = (async () => {
      for (const event of events.slice(250)) await publisher.publish(event);
    })();
    first.child.kill('SIGKILL');
    await first.exited();
    const storedAtKill = await archivedCount('crash');
    await rest;
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(storedAtKill).toBeLessThan(total);

    const second = await startAndWaitReady();
    await waitFor(
      `all ${total} events archived after the restart`,
      async () => (await archivedCount('crash')) >= total,
      30_000,
      50,
    );
    // Everything acked: nothing left for the consumer, nothing waiting for an ack.
    await waitFor('the archive consumer to have acked everything', async () => {
      const info = await publisher.bus.jsm.consumers.info(streams.confEvents().name, consumers.archiveEvents);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });

    const exported: ConferenceEventV1[] = [];
    let cursor: string | undefined;
    do {
      const page = await rpc.call(archiveExportRpc, { conferenceId: 'crash', ...(cursor ? { cursor } : {}) });
      exported.push(...page.events);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(exported.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(exported.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(await archivedCount('crash')).toBe(total);

    second.child.kill('SIGTERM');
    await second.exited();
    expect(second.child.exitCode ?? second.child.signalCode).not.toBeNull();
  });
});
