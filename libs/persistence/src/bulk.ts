/**
 * Multi-row statements under PostgreSQL's bind-parameter limit. The extended query protocol counts a
 * statement's parameters in 16 bits: one with more than 65,535 is refused outright ("bind message
 * has … parameter formats"), so a VALUES list built row by row fails once rows × columns passes it.
 * A multi-row INSERT of our own SQL passes one array per column instead (`insertRowsStatement`),
 * as the archive and the contact lists pass one jsonb parameter; TypeORM's own inserts are cut
 * into chunks (`chunkByParameters`).
 */
import type { Statement } from './statements.js';

/** Most bind parameters one PostgreSQL statement may carry. */
export const MAX_BIND_PARAMETERS = 65_535;

/** What runs a query: a DataSource, an EntityManager (inside a transaction) or a QueryRunner. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** Splits `rows` into runs, in order, each needing at most `maxParameters` parameters. */
export function chunkByParameters<T>(
  rows: readonly T[],
  parametersPerRow: number,
  maxParameters = MAX_BIND_PARAMETERS,
): T[][] {
  if (!Number.isInteger(parametersPerRow) || parametersPerRow < 1 || parametersPerRow > maxParameters) {
    throw new Error(`cannot chunk rows of ${parametersPerRow} parameters under ${maxParameters}`);
  }
  const size = Math.floor(maxParameters / parametersPerRow);
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

/** A column of `insertRowsStatement`: its name and its PostgreSQL type (the array's element type). */
export interface RowColumn {
  name: string;
  type: string;
}

/**
 * One `INSERT INTO table (…) SELECT … FROM unnest($1::type[], …)` of every row: one parameter per
 * column, however many rows, so it never meets the parameter limit and combines with other writes
 * (runTogether) as one statement. Rows are inserted in their order (a serial id is drawn in it).
 * `table`, names and types are trusted SQL.
 */
export function insertRowsStatement(
  table: string,
  columns: readonly RowColumn[],
  rows: ReadonlyArray<readonly unknown[]>,
): Statement {
  for (const row of rows) {
    if (row.length !== columns.length) {
      throw new Error(`a row for ${table} has ${row.length} values, not ${columns.length}`);
    }
  }
  const names = columns.map((column) => column.name).join(', ');
  const arrays = columns.map((column, c) => `$${c + 1}::${column.type}[]`).join(', ');
  return {
    sql:
      `INSERT INTO ${table} (${names}) SELECT ${names} ` +
      `FROM unnest(${arrays}) WITH ORDINALITY AS row (${names}, row_number) ORDER BY row_number`,
    params: columns.map((_, c) => rows.map((row) => row[c])),
  };
}

/** Runs insertRowsStatement (inside the caller's transaction when given an EntityManager). */
export async function insertRows(
  db: Queryable,
  table: string,
  columns: readonly RowColumn[],
  rows: ReadonlyArray<readonly unknown[]>,
): Promise<void> {
  if (rows.length === 0) return;
  const { sql, params } = insertRowsStatement(table, columns, rows);
  await db.query(sql, params);
}

/**
 * Deletes the rows of `table` (aliased `t` in `where`) that match `where`, at most `batchSize` per
 * statement, so pruning a large table never holds many row locks or runs into the statement
 * timeout; returns how many went. `where` is trusted SQL; its parameters are `$1`, `$2`, ….
 */
export async function deleteInBatches(
  db: Queryable,
  table: string,
  where: string,
  parameters: unknown[] = [],
  batchSize = 5_000,
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < 1_000; batch++) {
    const [{ n }] = (await db.query(
      `WITH gone AS (
         DELETE FROM ${table} WHERE ctid IN (
           SELECT t.ctid FROM ${table} t WHERE ${where} LIMIT $${parameters.length + 1})
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [...parameters, batchSize],
    )) as [{ n: number }];
    deleted += n;
    if (n < batchSize) break;
  }
  return deleted;
}
