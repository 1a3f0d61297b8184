/**
 * Sequence reuse (issue 14): an event whose (conference_id, seq) another event already holds is kept
 * under the next `collision` number instead of being dropped. The key becomes
 * (conference_id, seq, collision); every read orders by (seq, collision). The idempotency key of a
 * redelivery is now the event id within its seq (checked by the insert), no longer the seq alone.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SeqCollision1764806400000 implements MigrationInterface {
  name = 'SeqCollision1764806400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Rebuilding the primary key and the message index reads the whole table: on a large archive
    // that takes longer than the sessions' 60 s statement timeout.
    await queryRunner.query('SET LOCAL statement_timeout = 0');
    // 0: the first event archived under its seq; 1, 2, …: events that reused the seq later, in the
    // order they reached the archive. Adding a column with a constant default rewrites nothing.
    await queryRunner.query('ALTER TABLE archive_event ADD COLUMN collision smallint NOT NULL DEFAULT 0');
    await queryRunner.query(
      `ALTER TABLE archive_event DROP CONSTRAINT archive_event_pkey,
         ADD CONSTRAINT archive_event_pkey PRIMARY KEY (conference_id, seq, collision)`,
    );
    // Reads of messages only order by (seq, collision) too; the index gives that order.
    await queryRunner.query('DROP INDEX archive_event_message_idx');
    await queryRunner.query(
      `CREATE INDEX archive_event_message_idx ON archive_event (conference_id, seq, collision)
         WHERE type = 'message-accepted'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Going back would have to drop the events that reused a seq: refuse instead of losing them.
    const rows: Array<{ reused: number }> = await queryRunner.query(
      'SELECT count(*)::int AS reused FROM archive_event WHERE collision > 0',
    );
    const reused = rows[0]?.reused ?? 0;
    if (reused > 0) {
      throw new Error(
        `cannot revert SeqCollision1764806400000: ${reused} archived events reused a seq and would be lost`,
      );
    }
    await queryRunner.query('SET LOCAL statement_timeout = 0');
    await queryRunner.query('DROP INDEX archive_event_message_idx');
    await queryRunner.query(
      `CREATE INDEX archive_event_message_idx ON archive_event (conference_id, seq)
         WHERE type = 'message-accepted'`,
    );
    await queryRunner.query(
      `ALTER TABLE archive_event DROP CONSTRAINT archive_event_pkey,
         ADD CONSTRAINT archive_event_pkey PRIMARY KEY (conference_id, seq)`,
    );
    await queryRunner.query('ALTER TABLE archive_event DROP COLUMN collision');
  }
}
