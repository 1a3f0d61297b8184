/** The inbox of processed bus message ids (idempotent consumers). */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createInboxTable } from '@parley/persistence';

export class Inbox1763769600000 implements MigrationInterface {
  name = 'Inbox1763769600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createInboxTable(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE inbox');
  }
}
