/**
 * Issue 15: the owner takes part. The participant who represents the owner (their chosen IM
 * account) is marked; only they may run owner actions (/remove, /close) from their IM client.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OwnerParticipant1764374400000 implements MigrationInterface {
  name = 'OwnerParticipant1764374400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE participant ADD COLUMN is_owner boolean NOT NULL DEFAULT false');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE participant DROP COLUMN is_owner');
  }
}
