/** Conferences, participants (with the invitation tree) and the outbox of bus messages. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Conferences1763856000000 implements MigrationInterface {
  name = 'Conferences1763856000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE conference (
        id text PRIMARY KEY,
        owner_id text NOT NULL,
        name text NOT NULL,
        subject text NOT NULL DEFAULT '',
        ttl_seconds integer NOT NULL,
        join_policy text NOT NULL CHECK (join_policy IN ('invite-only', 'owner-contacts', 'open')),
        owner_im_account_id text,
        state text NOT NULL CHECK (state IN ('draft', 'active', 'terminated')),
        last_seq bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        started_at timestamptz,
        terminated_at timestamptz,
        terminated_reason text
      )`);
    await queryRunner.query('CREATE INDEX conference_owner_created ON conference (owner_id, created_at)');
    await queryRunner.query(`
      CREATE TABLE participant (
        id uuid PRIMARY KEY,
        conference_id text NOT NULL REFERENCES conference (id) ON DELETE CASCADE,
        network text NOT NULL,
        address text NOT NULL,
        display_name text NOT NULL,
        state text NOT NULL
          CHECK (state IN ('invited', 'authorized', 'joined', 'paused', 'left', 'removed')),
        invited_by_id uuid,
        invited_by_network text,
        invited_by_address text,
        invited_by_name text,
        invited_at timestamptz NOT NULL,
        joined_at timestamptz,
        left_at timestamptz,
        message_count integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL,
        UNIQUE (conference_id, network, address)
      )`);
    await queryRunner.query('CREATE INDEX participant_identity ON participant (network, address)');
    await queryRunner.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        stream text NOT NULL,
        subject text NOT NULL,
        msg_id text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    await queryRunner.query('CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE outbox');
    await queryRunner.query('DROP TABLE participant');
    await queryRunner.query('DROP TABLE conference');
  }
}
