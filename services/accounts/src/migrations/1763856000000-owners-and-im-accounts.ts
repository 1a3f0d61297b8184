/** Owners, their e-mail confirmation tokens, and their IM accounts (passwords sealed). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OwnersAndImAccounts1763856000000 implements MigrationInterface {
  name = 'OwnersAndImAccounts1763856000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE owners (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        display_name text NOT NULL,
        password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
        email_confirmed_at timestamptz,
        pending_email text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT owners_email_key UNIQUE (email),
        CONSTRAINT owners_email_lower CHECK (email = lower(email))
      )`);
    await queryRunner.query(`
      CREATE TABLE email_confirmations (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
        token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        purpose text NOT NULL CHECK (purpose IN ('register', 'email-change')),
        email text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT email_confirmations_token_hash_key UNIQUE (token_hash)
      )`);
    await queryRunner.query('CREATE INDEX email_confirmations_owner_idx ON email_confirmations (owner_id)');
    await queryRunner.query(`
      CREATE TABLE im_accounts (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
        network text NOT NULL,
        address text NOT NULL,
        password_ciphertext bytea NOT NULL,
        password_iv bytea NOT NULL CHECK (length(password_iv) = 12),
        password_tag bytea NOT NULL CHECK (length(password_tag) = 16),
        key_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT im_accounts_owner_network_address_key UNIQUE (owner_id, network, address)
      )`);
    // rotate-keys looks for rows not under the current key.
    await queryRunner.query('CREATE INDEX im_accounts_key_id_idx ON im_accounts (key_id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE im_accounts');
    await queryRunner.query('DROP TABLE email_confirmations');
    await queryRunner.query('DROP TABLE owners');
  }
}
