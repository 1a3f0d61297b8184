/**
 * pipelinedTransaction sends BEGIN with the first statement and COMMIT with the last writes (pg's
 * pipeline mode). It must stay a transaction: nothing visible before the COMMIT, nothing kept when
 * a last write or the work in between fails, and the pooled connection fit for ordinary use after.
 * preparedQuery (named statements) must run where TypeORM's query would: in the transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  initializeAndMigrate,
  pipelinedTransaction,
  preparedQuery,
} from '@parley/persistence';
import { testEnv, testSchema } from '@parley/testing';

describe('a pipelined transaction on PostgreSQL', () => {
  const schema = testSchema('pipelined');
  let ds: DataSource;
  let other: pg.Client;
  const ids = async () =>
    ((await ds.query('SELECT id FROM item ORDER BY id')) as Array<{ id: number }>).map((r) => r.id);

  beforeAll(async () => {
    // One connection: every transaction below reuses the one the pipelined ones ran on.
    ds = await initializeAndMigrate(
      createServiceDataSource({
        url: testEnv.databaseUrl(),
        schema,
        entities: [],
        migrations: [],
        poolSize: 1,
      }),
    );
    await ds.query('CREATE TABLE item (id int PRIMARY KEY, note text NOT NULL)');
    other = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await other.connect();
  });

  afterAll(async () => {
    await other?.end();
    await ds?.destroy();
  });

  it('commits what ran first and the last writes together, and nothing is visible before', async () => {
    const { result: seenMeanwhile } = await pipelinedTransaction(ds, async (tx) => {
      await tx.query('INSERT INTO item VALUES (1, $1)', ['first']);
      const seen = await other.query(`SELECT count(*)::int AS n FROM ${schema}.item`);
      return {
        result: (seen.rows[0] as { n: number }).n,
        last: [
          { sql: 'INSERT INTO item VALUES (2, $1)', params: ['last'] },
          { sql: 'UPDATE item SET note = $2 WHERE id = $1', params: [1, 'first, updated'] },
        ],
      };
    });
    expect(seenMeanwhile).toBe(0);
    expect(await ds.query('SELECT id, note FROM item ORDER BY id')).toEqual([
      { id: 1, note: 'first, updated' },
      { id: 2, note: 'last' },
    ]);
  });

  it('answers the rows of the write marked `returning`, sent after the others', async () => {
    const { result, returned } = await pipelinedTransaction(ds, async () => ({
      result: 'decided',
      last: [{ sql: 'UPDATE item SET note = $2 WHERE id = $1', params: [2, 'last, updated'] }],
      returning: {
        sql: "INSERT INTO item SELECT id, 'returned' FROM unnest($1::int[]) AS id RETURNING id, note",
        params: [[7, 8]],
      },
    }));
    expect(result).toBe('decided');
    expect(returned).toEqual([
      { id: 7, note: 'returned' },
      { id: 8, note: 'returned' },
    ]);
    expect(await ds.query('SELECT note FROM item WHERE id = 2')).toEqual([{ note: 'last, updated' }]);
    await ds.query('DELETE FROM item WHERE id IN (7, 8)');
  });

  it('keeps nothing when a last write fails, and throws its error', async () => {
    await expect(
      pipelinedTransaction(ds, async (tx) => {
        await tx.query('INSERT INTO item VALUES (3, $1)', ['would be kept']);
        return { result: null, last: [{ sql: 'INSERT INTO item VALUES (1, $1)', params: ['taken'] }] };
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await ids()).toEqual([1, 2]);
  });

  it('keeps nothing when the work between fails', async () => {
    await expect(
      pipelinedTransaction(ds, async (tx) => {
        await tx.query('INSERT INTO item VALUES (4, $1)', ['would be kept']);
        throw new Error('decided otherwise');
      }),
    ).rejects.toThrow('decided otherwise');
    expect(await ids()).toEqual([1, 2]);
  });

  it('leaves the connection to ordinary transactions afterwards', async () => {
    await ds.transaction(async (tx) => {
      await tx.query('INSERT INTO item VALUES (5, $1)', ['plain']);
    });
    await expect(
      ds.transaction(async (tx) => {
        await tx.query('INSERT INTO item VALUES (6, $1)', ['rolled back']);
        await tx.query('INSERT INTO item VALUES (5, $1)', ['taken']);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await ids()).toEqual([1, 2, 5]);
  });

  it('runs a prepared statement inside the transaction it is given, and on the pool otherwise', async () => {
    const count = 'SELECT count(*)::int AS n FROM item WHERE note = $1';
    await ds.transaction(async (tx) => {
      await tx.query('INSERT INTO item VALUES (7, $1)', ['uncommitted']);
      expect(await preparedQuery(tx, count, ['uncommitted'])).toEqual([{ n: 1 }]);
      expect(await preparedQuery(tx, count, ['uncommitted'])).toEqual([{ n: 1 }]);
      await tx.query('DELETE FROM item WHERE id = 7');
    });
    expect(await preparedQuery(ds, count, ['plain'])).toEqual([{ n: 1 }]);
  });
});
