/**
 * Named prepared statements for the hot path. PostgreSQL parses and plans an unnamed statement every
 * time; a named one is parsed once per connection and, after a few runs, keeps a generic plan.
 * Planning the statements of a relayed message took about as long as running them
 * (pg_stat_statements, docs/performance.md).
 */
import type { DataSource, EntityManager } from 'typeorm';

/** Statement names by SQL text. */
const names = new Map<string, string>();
/**
 * Distinct texts named, at most: each is prepared on every connection that runs it and kept there.
 * Our hot statements are a handful of texts; past the cap (text built from varying parts) they run
 * unnamed.
 */
const MAX_NAMED = 256;

/** The name `sql` runs under (undefined: unnamed). Only for our own SQL, never text built from input. */
export function statementName(sql: string): string | undefined {
  let name = names.get(sql);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `parley_${names.size}`;
    names.set(sql, name);
  }
  return name;
}

/** A node-postgres client or pool: what runs a query config. */
export interface PgQueryable {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Runs `sql` as a named prepared statement on a node-postgres client or pool; its rows. */
export async function queryPrepared<R>(client: PgQueryable, sql: string, params: unknown[]): Promise<R[]> {
  const result = await client.query({ name: statementName(sql), text: sql, values: params });
  return result.rows as R[];
}

/**
 * queryPrepared on a TypeORM handle: a transaction's manager runs it on the transaction's
 * connection, a DataSource (or a manager outside a transaction) on its pool.
 */
export async function preparedQuery<R>(
  db: DataSource | EntityManager,
  sql: string,
  params: unknown[],
): Promise<R[]> {
  const runner = 'queryRunner' in db ? db.queryRunner : undefined;
  if (runner) return queryPrepared<R>((await runner.connect()) as PgQueryable, sql, params);
  const dataSource = 'driver' in db ? db : db.dataSource;
  return queryPrepared<R>((dataSource.driver as unknown as { master: PgQueryable }).master, sql, params);
}
