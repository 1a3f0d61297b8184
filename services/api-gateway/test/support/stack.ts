/**
 * Starts what the owner REST API needs, in-process on port 0: accounts and api-gateway on this test
 * file's bus prefix and schema, against the real NATS and PostgreSQL, with a real SMTP listener —
 * and, when asked, conference-core and archive behind them. Plus a small HTTP client and an owner
 * factory (register → mail → confirm → login).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { expect } from 'vitest';
import { serviceTestEnv, startTestService, TestMailbox } from '@parley/testing';
import { AppModule as AccountsModule } from '../../../accounts/src/app.module.js';
import { loadServiceConfig as loadAccountsConfig } from '../../../accounts/src/config.js';
import { AppModule as ArchiveModule } from '../../../archive/src/app.module.js';
import { loadServiceConfig as loadArchiveConfig } from '../../../archive/src/config.js';
import { AppModule as ConferenceCoreModule } from '../../../conference-core/src/app.module.js';
import { loadServiceConfig as loadConferenceCoreConfig } from '../../../conference-core/src/config.js';
import { AppModule as GatewayModule } from '../../src/app.module.js';
import { loadServiceConfig as loadGatewayConfig } from '../../src/config.js';
import { configureHttp } from '../../src/http/configure-http.js';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
  body: any;
}

/** The answer's body, once its status is the one expected (the body is shown when it is not). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
export function expectStatus(answer: HttpAnswer, status: number): any {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer.body;
}

export interface RequestOptions {
  token?: string;
  /** A JSON value, or a raw string sent as is (for malformed bodies). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Stack {
  gateway: NestFastifyApplication;
  accounts: NestFastifyApplication;
  /** Started with `{ conferences: true }` (or `archive: true`). */
  conferenceCore?: NestFastifyApplication;
  /** Started with `{ archive: true }`. */
  archive?: NestFastifyApplication;
  mailbox: TestMailbox;
  baseUrl: string;
  secrets: { jwtSecret: string; secretsKey: string; secretsKeyId: string };
  request(method: string, path: string, options?: RequestOptions): Promise<HttpAnswer>;
  /** Restarts accounts with other environment values (e.g. a new secrets key). */
  restartAccounts(extra: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export function newSecretsKey(): string {
  return randomBytes(32).toString('base64');
}

export async function startStack(
  options: {
    gatewayEnv?: Record<string, string>;
    accountsEnv?: Record<string, string>;
    /** Also start conference-core (for the conference endpoints). */
    conferences?: boolean;
    /** Also start conference-core and archive (for the history endpoints). */
    archive?: boolean;
  } = {},
): Promise<Stack> {
  const mailbox = await TestMailbox.start();
  const secrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    secretsKey: newSecretsKey(),
    secretsKeyId: 'k1',
  };
  const accountsEnv = (extra: Record<string, string>) =>
    serviceTestEnv('accounts', {
      PARLEY_JWT_SECRET: secrets.jwtSecret,
      PARLEY_SECRETS_KEY: secrets.secretsKey,
      PARLEY_SECRETS_KEY_ID: secrets.secretsKeyId,
      PARLEY_SMTP_URL: mailbox.url,
      PARLEY_MAIL_FROM: 'Parley <no-reply@parley.test>',
      ...options.accountsEnv,
      ...extra,
    });
  const startAccounts = async (extra: Record<string, string>) => {
    const config = loadAccountsConfig(accountsEnv(extra));
    return startTestService('accounts', AccountsModule.forRoot(config));
  };
  let accounts = await startAccounts({});
  let conferenceCore: NestFastifyApplication | undefined;
  if (options.conferences || options.archive) {
    const config = loadConferenceCoreConfig(serviceTestEnv('conference-core'));
    conferenceCore = await startTestService('conference-core', ConferenceCoreModule.forRoot(config));
  }
  let archive: NestFastifyApplication | undefined;
  if (options.archive) {
    const config = loadArchiveConfig(serviceTestEnv('archive'));
    archive = await startTestService('archive', ArchiveModule.forRoot(config));
  }
  const gatewayConfig = loadGatewayConfig(
    serviceTestEnv('api-gateway', { PARLEY_JWT_SECRET: secrets.jwtSecret, ...options.gatewayEnv }),
  );
  const gateway = await startTestService('api-gateway', GatewayModule.forRoot(gatewayConfig), configureHttp);
  const baseUrl = await gateway.getUrl();

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<HttpAnswer> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if (/json/.test(response.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed };
  };

  return {
    gateway,
    get accounts() {
      return accounts;
    },
    conferenceCore,
    archive,
    mailbox,
    baseUrl,
    secrets,
    request,
    async restartAccounts(extra) {
      await accounts.close();
      accounts = await startAccounts(extra);
    },
    async close() {
      await gateway.close();
      await archive?.close();
      await conferenceCore?.close();
      await accounts.close();
      await mailbox.close();
    },
  };
}

export interface TestOwner {
  id: string;
  email: string;
  password: string;
  displayName: string;
  token: string;
}

/** A unique e-mail address for one test owner. */
export function newEmail(label = 'owner'): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.org`;
}

/** Registers, confirms through the mail, and logs in a new owner. */
export async function createOwner(stack: Stack, label = 'owner'): Promise<TestOwner> {
  const email = newEmail(label);
  const password = `pw-${randomUUID()}`;
  const displayName = `${label} test`;
  const seen = stack.mailbox.mails.length;
  const registered = await stack.request('POST', '/api/v1/auth/register', {
    body: { email, password, displayName },
  });
  if (registered.status !== 201)
    throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
  const token = TestMailbox.tokenIn(await stack.mailbox.mailTo(email, seen));
  const confirmed = await stack.request('POST', '/api/v1/auth/confirm', { body: { token } });
  if (confirmed.status !== 200) throw new Error(`confirm answered ${confirmed.status}`);
  const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  return { id: registered.body.id, email, password, displayName, token: login.body.accessToken };
}
