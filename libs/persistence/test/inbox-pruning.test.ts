/** The inbox keeps claims as long as a stream could hand a message out again, and no longer. */
import { afterEach, describe, expect, it } from 'vitest';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  claimMessage,
  createInboxTable,
  createServiceDataSource,
  INBOX_RETENTION_MS,
  initializeAndMigrate,
  pruneInbox,
} from '@parley/persistence';
import { testEnv, testSchema } from '@parley/testing';

class CreateInbox1700000000001 implements MigrationInterface {
  name = 'CreateInbox1700000000001';
  async up(q: QueryRunner) {
    await createInboxTable(q);
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE inbox');
  }
}

describe('pruning the inbox', () => {
  const opened: DataSource[] = [];
  const open = async (schema: string, migrations: Array<new () => MigrationInterface>) => {
    const ds = createServiceDataSource({ url: testEnv.databaseUrl(), schema, entities: [], migrations });
    opened.push(ds);
    return initializeAndMigrate(ds);
  };

  afterEach(async () => {
    for (const ds of opened.splice(0)) if (ds.isInitialized) await ds.destroy();
  });

  it('deletes claims older than the retention and keeps the recent ones, which still refuse a second claim', async () => {
    const ds = await open(testSchema('inbox_pruning'), [CreateInbox1700000000001]);
    await ds.query(
      `INSERT INTO inbox (consumer, message_id, processed_at)
       SELECT 'c', 'old-' || i, now() - make_interval(secs => $1) FROM generate_series(1, 12000) AS i`,
      [INBOX_RETENTION_MS / 1000 + 3600],
    );
    expect(await claimMessage(ds.manager, 'c', 'recent')).toBe(true);
    expect(await pruneInbox(ds)).toBe(12_000);
    const [{ n }] = (await ds.query('SELECT count(*)::int AS n FROM inbox')) as [{ n: number }];
    expect(n).toBe(1);
    expect(await claimMessage(ds.manager, 'c', 'recent')).toBe(false);
  });

  it('does nothing in a schema without an inbox', async () => {
    const ds = await open(testSchema('no_inbox'), []);
    expect(await pruneInbox(ds)).toBe(0);
  });
});
