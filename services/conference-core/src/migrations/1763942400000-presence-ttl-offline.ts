/**
 * Issue 6: the stored time-to-live deadline of each conference, conference-core's view of who is
 * offline (from PRESENCE_CHANGES), and the offline-delivery queue for networks without offline storage.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PresenceTtlOffline1763942400000 implements MigrationInterface {
  name = 'PresenceTtlOffline1763942400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // When the conference expires unless someone becomes active; null while someone is active.
    await queryRunner.query('ALTER TABLE conference ADD COLUMN idle_deadline timestamptz');
    await queryRunner.query(
      "CREATE INDEX conference_idle_deadline ON conference (idle_deadline) WHERE state = 'active'",
    );
    // Conferences already running get a clock; at the deadline the scheduler re-checks who is
    // active and only ends those with nobody active.
    await queryRunner.query(
      "UPDATE conference SET idle_deadline = now() + ttl_seconds * interval '1 second' WHERE state = 'active'",
    );
    await queryRunner.query(`
      CREATE TABLE identity_presence (
        network text NOT NULL,
        address text NOT NULL,
        presence text NOT NULL,
        status text,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (network, address)
      )`);
    await queryRunner.query(`
      CREATE TABLE offline_queue (
        id bigserial PRIMARY KEY,
        conference_id text NOT NULL REFERENCES conference (id) ON DELETE CASCADE,
        network text NOT NULL,
        address text NOT NULL,
        msg_id text NOT NULL,
        payload jsonb NOT NULL,
        queued_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX offline_queue_recipient ON offline_queue (network, address, conference_id, id)',
    );
    await queryRunner.query(`
      CREATE TABLE offline_drop (
        conference_id text NOT NULL REFERENCES conference (id) ON DELETE CASCADE,
        network text NOT NULL,
        address text NOT NULL,
        dropped integer NOT NULL,
        PRIMARY KEY (network, address, conference_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE offline_drop');
    await queryRunner.query('DROP TABLE offline_queue');
    await queryRunner.query('DROP TABLE identity_presence');
    await queryRunner.query('ALTER TABLE conference DROP COLUMN idle_deadline');
  }
}
