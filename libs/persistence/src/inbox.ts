/**
 * The inbox: which bus messages a consumer has already applied. Claiming a message id in the same
 * transaction as the handler's writes makes every handler idempotent under at-least-once delivery.
 */
import type { EntityManager, QueryRunner } from 'typeorm';

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

/** claimMessage for several ids in one statement: the ids not processed before (now claimed). */
export async function claimMessages(
  manager: EntityManager,
  consumer: string,
  messageIds: string[],
): Promise<Set<string>> {
  const rows = (await manager.query(
    `INSERT INTO inbox (consumer, message_id) SELECT $1, id FROM unnest($2::text[]) AS id
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [consumer, messageIds],
  )) as Array<{ message_id: string }>;
  return new Set(rows.map((row) => row.message_id));
}
