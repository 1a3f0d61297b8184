import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { RpcClient } from '@parley/bus';
import { archiveExportRpc, consumers, pingRpc, streams, type ConferenceEventV1 } from '@parley/contracts';
import { serviceTestEnv, testEnv, testSchema, waitFor } from '@parley/testing';
import { confEventsPublisher, message } from './factories.js';

/** The built archive service as its own process, as it runs in production. */
function startArchive(): { child: ChildProcess; stderr: () => string } {
  let stderr = '';
  const child = spawn(process.execPath, ['services/archive/dist/main.js'], {
    env: {
      ...process.env,
      ...serviceTestEnv('archive', {
        // After the crash, what was delivered but not acked comes back after ack_wait.
        PARLEY_ARCHIVE_ACK_WAIT_MS: '2000',
        PARLEY_LOG_LEVEL: 'error',
      }),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('archive service killed with SIGKILL mid-stream', () => {
  let rpc: RpcClient;
  let db: pg.Client;
  let publisher: Awaited<ReturnType<typeof confEventsPublisher>>;
  const children: ChildProcess[] = [];

  async function archivedCount(conferenceId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${testSchema('archive')}".archive_event WHERE conference_id = $1`,
      [conferenceId],
    );
    return rows[0]!.n;
  }

  async function startAndWaitReady() {
    const archive = startArchive();
    children.push(archive.child);
    await waitFor(
      `the archive process (pid ${archive.child.pid}) to answer ping`,
      async () => {
        if (archive.child.exitCode !== null) throw new Error(`archive exited: ${archive.stderr()}`);
        const reply = await rpc.call(pingRpc('archive'), { from: 'crash-test' }, 1_000);
        return reply.pid === archive.child.pid;
      },
      30_000,
    );
    return archive;
  }

  beforeAll(async () => {
    rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    db = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await db.connect();
    publisher = await confEventsPublisher();
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
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
    await exited(first.child);
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
    await exited(second.child);
    expect(second.child.exitCode ?? second.child.signalCode).not.toBeNull();
  });
});
