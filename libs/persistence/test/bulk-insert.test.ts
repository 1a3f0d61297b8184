/**
 * PostgreSQL refuses a statement with more than 65,535 bind parameters; `insertRows` passes one
 * array per column instead, so any number of rows goes in one statement, in order (serial ids drawn
 * in row order).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import {
  MAX_BIND_PARAMETERS,
  chunkByParameters,
  createServiceDataSource,
  initializeAndMigrate,
  insertRows,
} from '@parley/persistence';
import { testEnv, testSchema } from '@parley/testing';

const ROWS = 20_000; // × 4 columns = 80,000 parameters as a VALUES list
const COLUMNS = [
  { name: 'key', type: 'text' },
  { name: 'n', type: 'int' },
  { name: 'value', type: 'text' },
  { name: 'doc', type: 'jsonb' },
];

describe('multi-row inserts over the parameter limit', () => {
  let ds: DataSource;
  const rows = Array.from({ length: ROWS }, (_, i) => [
    `k${i}`,
    i,
    i % 7 === 0 ? null : `v'"{${i}}`,
    JSON.stringify({ i }),
  ]);
  const count = async () =>
    ((await ds.query('SELECT count(*)::int AS count FROM item')) as [{ count: number }])[0].count;

  beforeAll(async () => {
    ds = await initializeAndMigrate(
      createServiceDataSource({
        url: testEnv.databaseUrl(),
        schema: testSchema('bulk'),
        entities: [],
        migrations: [],
      }),
    );
    await ds.query(
      'CREATE TABLE item (id bigserial PRIMARY KEY, key text NOT NULL, n int NOT NULL, value text, doc jsonb)',
    );
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('is refused by PostgreSQL as one VALUES statement (why the helpers exist)', async () => {
    const placeholders = rows.map(
      (_, r) => `($${4 * r + 1}, $${4 * r + 2}, $${4 * r + 3}, $${4 * r + 4}::jsonb)`,
    );
    expect(rows.length * 4).toBeGreaterThan(MAX_BIND_PARAMETERS);
    await expect(
      ds.query(`INSERT INTO item (key, n, value, doc) VALUES ${placeholders.join(', ')}`, rows.flat()),
    ).rejects.toThrow();
    expect(await count()).toBe(0);
  });

  it('stores every row, in order and as given (quotes, braces, nulls), inside the caller’s transaction', async () => {
    await ds.transaction((manager) => insertRows(manager, 'item', COLUMNS, rows));
    const stored = (await ds.query('SELECT key, n, value, doc FROM item ORDER BY id')) as Array<{
      key: string;
      n: number;
      value: string | null;
      doc: { i: number };
    }>;
    expect(stored).toHaveLength(ROWS);
    expect(stored.map((row) => [row.key, row.n, row.value, JSON.stringify(row.doc)])).toEqual(rows);
  });

  it('writes nothing when a row is refused', async () => {
    const bad = [...rows.slice(0, 100), ['bad', null, 'x', '{}']];
    await expect(ds.transaction((manager) => insertRows(manager, 'item', COLUMNS, bad))).rejects.toThrow(
      /null value/,
    );
    expect(await count()).toBe(ROWS);
  });

  it('cuts rows for a statement of its own (TypeORM inserts) into runs under the limit', () => {
    const chunks = chunkByParameters(rows, 17);
    expect(chunks.map((chunk) => chunk.length)).toEqual([3_855, 3_855, 3_855, 3_855, 3_855, 725]);
    expect(chunks.flat()).toEqual(rows);
  });
});
