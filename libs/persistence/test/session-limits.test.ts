/**
 * Every PostgreSQL session of a service carries limits (DATABASE_TIMEOUTS): a vanished or stuck
 * client cannot keep its locks for long, a lock wait and a statement are bounded, and the server
 * probes idle connections with TCP keepalive. Checked on the real PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createServiceDataSource, DATABASE_TIMEOUTS, initializeAndMigrate } from '@parley/persistence';
import { testEnv, testSchema } from '@parley/testing';
import type { DatabaseTimeouts } from '@parley/persistence';

describe('the limits on every PostgreSQL session', () => {
  const opened: DataSource[] = [];
  const open = async (timeouts: Partial<DatabaseTimeouts> = {}) => {
    const ds = createServiceDataSource({
      url: testEnv.databaseUrl(),
      schema: testSchema('session_limits'),
      entities: [],
      migrations: [],
      timeouts,
    });
    opened.push(ds);
    return initializeAndMigrate(ds);
  };

  afterEach(async () => {
    for (const ds of opened.splice(0)) if (ds.isInitialized) await ds.destroy();
  });

  it('sets the statement, lock and idle-transaction limits and the server-side TCP keepalive', async () => {
    const ds = await open();
    const show = async (name: string) =>
      // pg_settings gives the raw value in the setting's own unit (ms or s).
      (
        (await ds.query('SELECT setting AS v FROM pg_settings WHERE name = $1', [name])) as Array<{
          v: string;
        }>
      )[0]!.v;
    expect(await show('statement_timeout')).toBe(String(DATABASE_TIMEOUTS.statementTimeoutMs));
    expect(await show('lock_timeout')).toBe(String(DATABASE_TIMEOUTS.lockTimeoutMs));
    expect(await show('idle_in_transaction_session_timeout')).toBe(
      String(DATABASE_TIMEOUTS.idleInTransactionMs),
    );
    expect(await show('tcp_keepalives_idle')).toBe(String(DATABASE_TIMEOUTS.keepaliveIdleSeconds));
    expect(await show('tcp_keepalives_interval')).toBe(String(DATABASE_TIMEOUTS.keepaliveIntervalSeconds));
    expect(await show('tcp_keepalives_count')).toBe(String(DATABASE_TIMEOUTS.keepaliveCount));
    expect(await show('search_path')).toBe(testSchema('session_limits'));
  });

  it('ends a transaction left idle, so the row lock it held is free for others', async () => {
    const ds = await open({ idleInTransactionMs: 500 });
    await ds.query('CREATE TABLE IF NOT EXISTS held (id int PRIMARY KEY)');
    await ds.query('INSERT INTO held VALUES (1) ON CONFLICT DO NOTHING');
    const stuck = ds.createQueryRunner();
    await stuck.connect();
    await stuck.startTransaction();
    await stuck.query('SELECT id FROM held WHERE id = 1 FOR UPDATE');
    // The holder now says nothing (a client that vanished mid-transaction, or hangs).
    const started = Date.now();
    await ds.transaction((manager) => manager.query('SELECT id FROM held WHERE id = 1 FOR UPDATE'));
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(stuck.query('SELECT 1')).rejects.toThrow();
    await stuck.release().catch(() => undefined);
  });

  it('fails a lock wait that lasts longer than the lock timeout instead of waiting for ever', async () => {
    const ds = await open({ lockTimeoutMs: 300 });
    await ds.query('CREATE TABLE IF NOT EXISTS held (id int PRIMARY KEY)');
    await ds.query('INSERT INTO held VALUES (1) ON CONFLICT DO NOTHING');
    const holder = ds.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query('SELECT id FROM held WHERE id = 1 FOR UPDATE');
    await expect(
      ds.transaction((manager) => manager.query('SELECT id FROM held WHERE id = 1 FOR UPDATE')),
    ).rejects.toMatchObject({ code: '55P03' });
    await holder.rollbackTransaction();
    await holder.release();
  });

  it('cancels a statement that runs longer than the statement timeout', async () => {
    const ds = await open({ statementTimeoutMs: 200 });
    await expect(ds.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
  });
});
