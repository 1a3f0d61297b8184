import { afterEach, describe, expect, it } from 'vitest';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { createServiceDataSource, initializeAndMigrate } from '@parley/persistence';
import { testEnv, testSchema } from '@parley/testing';

class CreateNotes1700000000001 implements MigrationInterface {
  name = 'CreateNotes1700000000001';
  async up(q: QueryRunner) {
    await q.query('CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL)');
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE note');
  }
}

class AddAuthor1700000000002 implements MigrationInterface {
  name = 'AddAuthor1700000000002';
  async up(q: QueryRunner) {
    await q.query('ALTER TABLE note ADD COLUMN author text');
  }
  async down(q: QueryRunner) {
    await q.query('ALTER TABLE note DROP COLUMN author');
  }
}

/** Creates a table, then fails: its transaction must leave nothing behind. */
class Broken1700000000003 implements MigrationInterface {
  name = 'Broken1700000000003';
  async up(q: QueryRunner) {
    await q.query('CREATE TABLE half_done (id int)');
    await q.query('ALTER TABLE no_such_table ADD COLUMN x int');
  }
  async down() {}
}

describe('migrations on a fresh schema of the real PostgreSQL', () => {
  const opened: DataSource[] = [];
  const open = (schema: string, migrations: Array<new () => MigrationInterface>) => {
    const ds = createServiceDataSource({ url: testEnv.databaseUrl(), schema, entities: [], migrations });
    opened.push(ds);
    return ds;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((ds) => (ds.isInitialized ? ds.destroy() : undefined)));
  });

  it('creates the schema, applies pending migrations in order, and records them', async () => {
    const schema = testSchema('migrations_fresh');
    const ds = await initializeAndMigrate(open(schema, [CreateNotes1700000000001, AddAuthor1700000000002]));
    const columns: Array<{ column_name: string }> = await ds.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'note' ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'body', 'author']);
    const applied: Array<{ name: string }> = await ds.query(
      `SELECT name FROM "${schema}".migrations ORDER BY id`,
    );
    expect(applied.map((m) => m.name)).toEqual(['CreateNotes1700000000001', 'AddAuthor1700000000002']);
  });

  it('applies nothing the second time', async () => {
    const schema = testSchema('migrations_again');
    await initializeAndMigrate(open(schema, [CreateNotes1700000000001]));
    const second = open(schema, [CreateNotes1700000000001, AddAuthor1700000000002]);
    await initializeAndMigrate(second);
    const applied: Array<{ name: string }> = await second.query(
      `SELECT name FROM "${schema}".migrations ORDER BY id`,
    );
    expect(applied.map((m) => m.name)).toEqual(['CreateNotes1700000000001', 'AddAuthor1700000000002']);
  });

  it('fails closed on a broken migration and rolls its changes back', async () => {
    const schema = testSchema('migrations_broken');
    const ds = open(schema, [CreateNotes1700000000001, Broken1700000000003]);
    await expect(initializeAndMigrate(ds)).rejects.toThrow(/no_such_table/);
    const tables: Array<{ table_name: string }> = await ds.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(['migrations', 'note']);
  });
});
