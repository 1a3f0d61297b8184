/**
 * The archive: one row per conference event keyed by (conference_id, seq), with the message body
 * indexed for full-text search, and per-conference settings (retention, search language).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Archive1763856000000 implements MigrationInterface {
  name = 'Archive1763856000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE conference_settings (
        conference_id text PRIMARY KEY,
        retention_seconds integer CHECK (retention_seconds > 0),
        language regconfig,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // (conference_id, seq) is the idempotency key: a redelivered event hits ON CONFLICT DO NOTHING.
    // The actor is the sender of a message or the participant of a notice (for counts and display).
    // payload_bytes: the event's JSON size, so a reply can stop at a byte budget without reading more.
    // search: the language-neutral 'simple' vector plus the conference's language (stemmed) vector;
    // a generated column, so changing a conference's language re-indexes by updating `language`.
    await queryRunner.query(`
      CREATE TABLE archive_event (
        conference_id text NOT NULL,
        seq bigint NOT NULL,
        event_id text NOT NULL,
        type text NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor_network text,
        actor_address text,
        actor_name text,
        body text,
        payload jsonb NOT NULL,
        payload_bytes integer NOT NULL,
        language regconfig NOT NULL DEFAULT 'simple',
        search tsvector GENERATED ALWAYS AS (
          to_tsvector('simple'::regconfig, coalesce(body, '')) || to_tsvector(language, coalesce(body, ''))
        ) STORED,
        archived_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conference_id, seq)
      )`);
    await queryRunner.query(
      'CREATE INDEX archive_event_time_idx ON archive_event (conference_id, occurred_at, seq)',
    );
    await queryRunner.query(
      `CREATE INDEX archive_event_message_idx ON archive_event (conference_id, seq)
         WHERE type = 'message-accepted'`,
    );
    await queryRunner.query('CREATE INDEX archive_event_search_idx ON archive_event USING gin (search)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE archive_event');
    await queryRunner.query('DROP TABLE conference_settings');
  }
}
