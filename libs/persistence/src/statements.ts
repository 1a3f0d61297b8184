/**
 * Several writes in one round trip. Each database round trip costs a socket write and a wake-up on
 * both sides — on the hot path of a message that, not the SQL, was most of conference-core's and
 * PostgreSQL's CPU (docs/performance.md) — so independent writes of one transaction are sent as one
 * statement of data-modifying CTEs (`WITH s0 AS (UPDATE …), s1 AS (INSERT …) SELECT 1`).
 */
import type { DataSource, EntityManager } from 'typeorm';
import { queryPrepared } from './prepared.js';

/** One SQL statement with its `$n` parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** Parameters of one combined statement: well under PostgreSQL's 65,535 a statement. */
const MAX_PARAMS = 30_000;
/** Writes in one combined statement (a big decision — a conference's close — stays a few statements). */
const MAX_PARTS = 64;

/**
 * As few statements as possible doing what `statements` do, in their order. Each must be an
 * INSERT, UPDATE or DELETE without a RETURNING the caller needs, and no two may change the same row
 * (PostgreSQL runs the CTEs of a statement on one snapshot, in no promised order). Parameters are
 * renumbered: `$n` in a statement's SQL must only ever be a parameter (true of our own SQL; never
 * put user text into `sql`).
 */
export function combineStatements(statements: Statement[]): Statement[] {
  const groups: Statement[][] = [];
  let params = 0;
  for (const statement of statements) {
    const group = groups.at(-1);
    if (!group || group.length >= MAX_PARTS || params + statement.params.length > MAX_PARAMS) {
      groups.push([statement]);
      params = statement.params.length;
    } else {
      group.push(statement);
      params += statement.params.length;
    }
  }
  return groups.map(combine);
}

function combine(statements: Statement[]): Statement {
  if (statements.length === 1) return statements[0]!;
  const params: unknown[] = [];
  const parts = statements.map((statement, i) => {
    const offset = params.length;
    params.push(...statement.params);
    const sql = statement.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `s${i} AS (${sql})`;
  });
  return { sql: `WITH ${parts.join(',\n')}\nSELECT 1`, params };
}

/** Runs `statements` (combineStatements) inside `manager`'s transaction. */
export async function runTogether(manager: EntityManager, statements: Statement[]): Promise<void> {
  for (const statement of combineStatements(statements)) await manager.query(statement.sql, statement.params);
}

/**
 * A transaction whose BEGIN rides with its first statement and whose COMMIT rides with its last:
 * the pooled connection runs in pg's pipeline mode for the transaction's length, so `BEGIN` is
 * written without waiting for its answer, and `fn`'s final writes (`last`, combined as in
 * runTogether) go out with `COMMIT` right behind them. Two round trips fewer than
 * DataSource.transaction — on the inbound hot path that was a third of the transaction's time
 * (docs/performance.md). When a final write fails, the `COMMIT` behind it finds the transaction
 * aborted and rolls it back; the write's error is thrown. `returning`, a final write whose rows the
 * caller needs, goes out after `last` (never combined) and its rows are answered once committed.
 */
export async function pipelinedTransaction<T>(
  dataSource: DataSource,
  fn: (tx: EntityManager) => Promise<{ result: T; last: Statement[]; returning?: Statement | null }>,
): Promise<{ result: T; returned: Record<string, unknown>[] }> {
  const runner = dataSource.createQueryRunner();
  const client = (await runner.connect()) as PipelinedClient;
  client.pipeline = true;
  try {
    // BEGIN waits in the socket for fn's first statement: one write for both.
    const socket = client.connection.stream;
    socket.cork();
    setImmediate(() => socket.uncork());
    const begin = client.query('BEGIN');
    begin.catch(() => undefined); // awaited below, once fn's first statement went out behind it
    try {
      const { result, last, returning } = await fn(runner.manager);
      await begin;
      let returned: Promise<Record<string, unknown>[]> = Promise.resolve([]);
      const sent = writtenTogether(client, () => [
        ...combineStatements(last).map((s) => queryPrepared(client, s.sql, s.params)),
        ...(returning
          ? [(returned = queryPrepared<Record<string, unknown>>(client, returning.sql, returning.params))]
          : []),
        client.query('COMMIT'),
      ]);
      const failed = (await Promise.allSettled(sent)).find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return { result, returned: await returned };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    // Idle again (every query above was answered): back to one query at a time for the pool.
    client.pipeline = false;
    await runner.release();
  }
}

/**
 * What `send` issues on a pipelined client, written to its socket at once (one write, where each
 * query would be one): the queries must be issued synchronously.
 */
export function writtenTogether<T>(client: PipelinedClient, send: () => T): T {
  const socket = client.connection.stream;
  socket.cork();
  try {
    return send();
  } finally {
    socket.uncork();
  }
}

/** node-postgres's client with its pipeline switch (declared read-only; switched here while idle). */
export interface PipelinedClient {
  pipeline: boolean;
  connection: { stream: { cork(): void; uncork(): void } };
  query(config: string | { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
}
