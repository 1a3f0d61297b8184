/**
 * Issue 14: when the outbox relay first tried to publish a row. A row tried more than a minute ago
 * and still unsent may be in its stream already, beyond JetStream's 2-minute duplicate window: the
 * relay looks it up before publishing it again (outbox.relay.ts).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OutboxAttempted1764460800000 implements MigrationInterface {
  name = 'OutboxAttempted1764460800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox ADD COLUMN attempted_at timestamptz');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox DROP COLUMN attempted_at');
  }
}
