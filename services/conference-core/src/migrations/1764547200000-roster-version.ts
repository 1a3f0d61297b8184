/**
 * Issue 12: a conference's roster version, bumped by every change of its participants or their
 * presence, so a roster conference-core remembers is not read again while it still holds
 * (conference/roster-cache.ts).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RosterVersion1764547200000 implements MigrationInterface {
  name = 'RosterVersion1764547200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE conference ADD COLUMN roster_version bigint NOT NULL DEFAULT 0');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE conference DROP COLUMN roster_version');
  }
}
