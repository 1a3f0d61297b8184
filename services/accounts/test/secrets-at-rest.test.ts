/**
 * Reads the accounts schema directly: no owner password and no IM password is stored in clear
 * text (nor the mailed confirmation token), and after `rotate-keys` (the built command, run as an
 * operator would) the passwords are under the new key and still decrypt with only that key.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient } from '@parley/bus';
import { accountsRpc, pingRpc } from '@parley/contracts';
import { serviceTestEnv, testEnv, testSchema, startTestService, waitFor, TestMailbox } from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';

const ROTATE_KEYS = fileURLToPath(new URL('../dist/rotate-keys.js', import.meta.url));
const run = promisify(execFile);

const k1 = { id: 'k1', key: randomBytes(32).toString('base64') };
const k2 = { id: 'k2', key: randomBytes(32).toString('base64') };
const OWNER_PASSWORD = 'owner-clear-password-7f3a';
const IM_PASSWORDS = { xmpp: 'xmpp-clear-secret-91b2', irc: 'irc-clear-secret-c44d' };

let mailbox: TestMailbox;
let accounts: NestFastifyApplication;
let rpc: RpcClient;
let db: pg.Client;
const schema = () => testSchema('accounts');

function env(key: { id: string; key: string }, oldKeys = '') {
  return serviceTestEnv('accounts', {
    PARLEY_JWT_SECRET: randomBytes(32).toString('hex'),
    PARLEY_SECRETS_KEY: key.key,
    PARLEY_SECRETS_KEY_ID: key.id,
    PARLEY_SECRETS_OLD_KEYS: oldKeys,
    PARLEY_SMTP_URL: mailbox.url,
  });
}

async function startAccounts(key: { id: string; key: string }, oldKeys = '') {
  const config = loadServiceConfig(env(key, oldKeys));
  return startTestService('accounts', AppModule.forRoot(config));
}

/** Runs the built rotate-keys command with the given keys; never throws, returns its outcome. */
async function rotateKeys(key: { id: string; key: string }, oldKeys: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [ROTATE_KEYS], {
      env: { ...process.env, ...env(key, oldKeys) },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Every row of every table of the schema, as JSON text (bytea shows as hex). */
async function wholeSchemaText(): Promise<string> {
  const tables = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
    [schema()],
  );
  const dumps: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await db.query<{ row: string }>(
      `SELECT row_to_json(t)::text AS row FROM "${schema()}"."${table_name}" t`,
    );
    dumps.push(...rows.rows.map((r) => r.row));
  }
  return dumps.join('\n');
}

function expectNoClearText(dump: string, secret: string) {
  expect(dump).not.toContain(secret);
  expect(dump.toLowerCase()).not.toContain(Buffer.from(secret, 'utf8').toString('hex'));
  expect(dump).not.toContain(Buffer.from(secret, 'utf8').toString('base64'));
}

async function imRows() {
  const { rows } = await db.query<{ id: string; key_id: string; password_ciphertext: Buffer }>(
    `SELECT id, key_id, password_ciphertext FROM "${schema()}".im_accounts ORDER BY id`,
  );
  return rows;
}

let ownerId: string;
let imAccountIds: string[];
let mailedToken: string;

beforeAll(async () => {
  mailbox = await TestMailbox.start();
  accounts = await startAccounts(k1);
  rpc = RpcClient.create(testEnv.natsUrl());
  await rpc.connect();
  db = new pg.Client({ connectionString: testEnv.databaseUrl() });
  await db.connect();

  const email = `secrets-${randomBytes(4).toString('hex')}@example.org`;
  const owner = await rpc.call(accountsRpc.register, {
    email,
    password: OWNER_PASSWORD,
    displayName: 'Keeper',
  });
  ownerId = owner.id;
  mailedToken = TestMailbox.tokenIn(await mailbox.mailTo(email));
  const xmpp = await rpc.call(accountsRpc.createImAccount, {
    ownerId,
    network: 'xmpp',
    address: 'keeper@example.org',
    password: IM_PASSWORDS.xmpp,
  });
  const irc = await rpc.call(accountsRpc.createImAccount, {
    ownerId,
    network: 'irc',
    address: 'keeper@irc.example.org',
    password: IM_PASSWORDS.irc,
  });
  imAccountIds = [xmpp.id, irc.id];
});

afterAll(async () => {
  await db?.end();
  await rpc?.close();
  await accounts?.close();
  await mailbox?.close();
});

describe('secrets at rest', () => {
  it('stores no password and no confirmation token in clear text anywhere in the schema', async () => {
    const dump = await wholeSchemaText();
    expect(dump).toContain(ownerId); // the dump really covers the data
    for (const secret of [OWNER_PASSWORD, IM_PASSWORDS.xmpp, IM_PASSWORDS.irc, mailedToken])
      expectNoClearText(dump, secret);

    const owner = await db.query<{ password_hash: string }>(
      `SELECT password_hash FROM "${schema()}".owners WHERE id = $1`,
      [ownerId],
    );
    expect(owner.rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const token = await db.query<{ token_hash: string }>(
      `SELECT token_hash FROM "${schema()}".email_confirmations WHERE owner_id = $1`,
      [ownerId],
    );
    expect(token.rows[0]!.token_hash).toBe(createHash('sha256').update(mailedToken).digest('hex'));

    const rows = await imRows();
    expect(rows.map((r) => r.key_id)).toEqual(['k1', 'k1']);
  });

  it('decrypts for the services that log in as the owner, scoped to the owner', async () => {
    const creds = await rpc.call(accountsRpc.imAccountCredentials, {
      ownerId,
      imAccountId: imAccountIds[0]!,
    });
    expect(creds).toMatchObject({
      network: 'xmpp',
      address: 'keeper@example.org',
      password: IM_PASSWORDS.xmpp,
    });
    await expect(
      rpc.call(accountsRpc.imAccountCredentials, {
        ownerId: '01900000-0000-7000-8000-000000000000',
        imAccountId: imAccountIds[0]!,
      }),
    ).rejects.toMatchObject({ code: 'not-found' });
  });

  it('rotate-keys refuses to run without the old key and leaves every row as it was', async () => {
    const before = await imRows();
    const outcome = await rotateKeys(k2, '');
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toContain('"k1" is not configured');
    expect(await imRows()).toEqual(before);
  });

  it('rotate-keys re-encrypts under the new key, and only the new key is then needed', async () => {
    const before = await imRows();
    const outcome = await rotateKeys(k2, `k1=${k1.key}`);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('2 IM password(s) re-encrypted under key "k2"; 0 left under other keys');

    const after = await imRows();
    expect(after.map((r) => r.key_id)).toEqual(['k2', 'k2']);
    after.forEach((row, i) =>
      expect(row.password_ciphertext.equals(before[i]!.password_ciphertext)).toBe(false),
    );
    const dump = await wholeSchemaText();
    for (const secret of Object.values(IM_PASSWORDS)) expectNoClearText(dump, secret);

    // Restart with the new key alone: the rotated passwords still decrypt.
    await accounts.close();
    accounts = await startAccounts(k2);
    // The restarted service answers once its RPC subscription reached the server.
    await waitFor('the restarted accounts service to answer', async () => {
      try {
        await rpc.call(pingRpc('accounts'), { from: 'test' }, 1_000);
        return true;
      } catch {
        return undefined;
      }
    });
    const [xmpp, irc] = await Promise.all(
      imAccountIds.map((imAccountId) => rpc.call(accountsRpc.imAccountCredentials, { ownerId, imAccountId })),
    );
    expect(xmpp!.password).toBe(IM_PASSWORDS.xmpp);
    expect(irc!.password).toBe(IM_PASSWORDS.irc);

    // A second run has nothing left to do.
    const again = await rotateKeys(k2, '');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 IM password(s) re-encrypted');
  });
});
