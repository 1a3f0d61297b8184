/**
 * The inbox: which bus messages a consumer has already applied. Claiming a message id in the same
 * transaction as the handler's writes makes every handler idempotent under at-least-once delivery.
 */
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { deleteInBatches } from './bulk.js';

/** DDL of the inbox table, for a service's migration (runs in that service's schema). */
export async function createInboxTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`
    CREATE TABLE inbox (
      consumer text NOT NULL,
      message_id text NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, message_id)
    )`);
}

/** Records `messageId` as processed by `consumer`; false when it already was (skip the work). */
export async function claimMessage(
  manager: EntityManager,
  consumer: string,
  messageId: string,
): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    'INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING message_id',
    [consumer, messageId],
  );
  return rows.length === 1;
}

/**
 * How long a claim is kept: longer than any stream keeps a message (30 days), so a message can never
 * be handed out again once its claim is gone. Older claims only fill the table.
 */
export const INBOX_RETENTION_MS = 31 * 24 * 3_600_000;
/** Claims deleted per statement, so pruning never holds many row locks or runs long. */
const PRUNE_BATCH = 5_000;

/**
 * Deletes claims older than `retentionMs` from the schema's `inbox` table (if it has one), in
 * batches; returns how many went.
 */
export async function pruneInbox(dataSource: DataSource, retentionMs = INBOX_RETENTION_MS): Promise<number> {
  const [{ exists }] = (await dataSource.query("SELECT to_regclass('inbox') IS NOT NULL AS exists")) as [
    { exists: boolean },
  ];
  if (!exists) return 0;
  return deleteInBatches(
    dataSource,
    'inbox',
    't.processed_at < now() - make_interval(secs => $1)',
    [retentionMs / 1000],
    PRUNE_BATCH,
  );
}

/**
 * claimMessage for several ids, as SQL for a caller to put into a statement of its own (a CTE
 * returning `message_id`: the ids not processed before, now claimed): `$1` the consumer, `$2` the
 * ids (text[]).
 */
export const CLAIM_MESSAGES_SQL = `INSERT INTO inbox (consumer, message_id) SELECT $1, id FROM unnest($2::text[]) AS id
     ON CONFLICT DO NOTHING RETURNING message_id`;
