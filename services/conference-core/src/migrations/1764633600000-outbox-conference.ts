/**
 * Issue 12: each outbox row names its conference, and a conference's unsent rows are found by an
 * index. A decision's transaction asks for them (its conference row locked): when every one is a
 * row this process is handing to JetStream itself, the decision's rows are handed over too, right
 * after the commit, without the relay reading them back (outbox.relay.ts).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OutboxConference1764633600000 implements MigrationInterface {
  name = 'OutboxConference1764633600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox ADD COLUMN conference_id text');
    await queryRunner.query(
      'CREATE INDEX outbox_unsent_by_conference ON outbox (conference_id, id) WHERE sent_at IS NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX outbox_unsent_by_conference');
    await queryRunner.query('ALTER TABLE outbox DROP COLUMN conference_id');
  }
}
