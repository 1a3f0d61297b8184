/** Saved contacts (unique per owner, network and address), import jobs and each job's progress events. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Contacts1764288000000 implements MigrationInterface {
  name = 'Contacts1764288000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        network text NOT NULL,
        address text NOT NULL CHECK (address = lower(address)),
        name text,
        groups text[] NOT NULL DEFAULT '{}',
        im_account_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT contacts_owner_network_address_key UNIQUE (owner_id, network, address)
      )`);
    await queryRunner.query('CREATE INDEX contacts_account_idx ON contacts (im_account_id)');
    // Who has this address as a contact (contacts.ownersWithContact).
    await queryRunner.query('CREATE INDEX contacts_address_idx ON contacts (network, address)');
    await queryRunner.query('CREATE INDEX contacts_groups_idx ON contacts USING gin (groups)');
    await queryRunner.query(`
      CREATE TABLE import_jobs (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        im_account_id uuid NOT NULL,
        network text NOT NULL,
        address text NOT NULL,
        state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
        contacts_read integer NOT NULL DEFAULT 0,
        contacts_saved integer NOT NULL DEFAULT 0,
        added integer,
        changed integer,
        removed integer,
        unchanged integer,
        failure_code text,
        failure_message text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await queryRunner.query('CREATE INDEX import_jobs_owner_idx ON import_jobs (owner_id, created_at)');
    // One import of an account at a time.
    await queryRunner.query(
      "CREATE UNIQUE INDEX import_jobs_one_active ON import_jobs (im_account_id) WHERE state IN ('queued', 'running')",
    );
    await queryRunner.query(`
      CREATE TABLE import_events (
        job_id uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        event jsonb NOT NULL,
        PRIMARY KEY (job_id, seq)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE import_events');
    await queryRunner.query('DROP TABLE import_jobs');
    await queryRunner.query('DROP TABLE contacts');
  }
}
