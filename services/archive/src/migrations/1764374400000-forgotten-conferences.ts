/**
 * Conferences whose archive was deleted with their owner (issue 13): a tombstone per conference,
 * so an event of it that arrives afterwards (the goodbye notices of its closing travel on another
 * stream) is not archived again.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ForgottenConferences1764374400000 implements MigrationInterface {
  name = 'ForgottenConferences1764374400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE forgotten_conference (
        conference_id text PRIMARY KEY,
        forgotten_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE forgotten_conference');
  }
}
