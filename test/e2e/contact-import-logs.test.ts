/**
 * The stored IM password appears in no log line (issue 15): every service an import touches —
 * api-gateway (the password comes in on POST im-accounts), accounts (stores and decrypts it),
 * contact-import (hands it to the gateway) and gateway-xmpp (logs in with it) — runs as its own
 * built process at debug level with its stdout and stderr captured, an owner stores the account
 * and imports its contacts over REST, and the captured output is searched for the password (plain,
 * and inside a SASL PLAIN token). Build first (`npx turbo run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient } from '@parley/bus';
import { pingRpc, type ServiceName } from '@parley/contracts';
import {
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  testEnv,
  waitFor,
  XmppTestClient,
  type XmppTestUser,
  TestMailbox,
} from '@parley/testing';
import { setRosterItems, xmppGatewayEnv } from './support/contact-import.js';

interface LoggedProcess {
  service: ServiceName;
  child: ChildProcess;
  output: () => string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('the stored IM password in the logs of an import', () => {
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  let mailbox: TestMailbox;
  let rpc: RpcClient;
  const processes: LoggedProcess[] = [];
  let baseUrl: string;
  let ownerUser: XmppTestUser;
  let ownerClient: XmppTestClient;

  async function start(service: ServiceName, extra: Record<string, string>): Promise<LoggedProcess> {
    let output = '';
    const child = spawn(process.execPath, [`services/${service}/dist/main.js`], {
      env: { ...process.env, ...serviceTestEnv(service, { PARLEY_LOG_LEVEL: 'debug', ...extra }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const logged = { service, child, output: () => output };
    processes.push(logged);
    await waitFor(
      `the ${service} process (pid ${child.pid}) to answer ping`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${service} exited: ${output.slice(-2_000)}`);
        return (await rpc.call(pingRpc(service), { from: 'test' }, 1_000)).pid === child.pid;
      },
      30_000,
    );
    return logged;
  }

  beforeAll(async () => {
    releaseComponentDomain = await holdXmppComponentDomain();
    mailbox = await TestMailbox.start();
    rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    const jwtSecret = randomBytes(32).toString('base64url');
    const httpPort = await freePort();
    await start('accounts', {
      PARLEY_JWT_SECRET: jwtSecret,
      PARLEY_SECRETS_KEY: randomBytes(32).toString('base64'),
      PARLEY_SECRETS_KEY_ID: 'k1',
      PARLEY_SMTP_URL: mailbox.url,
      PARLEY_MAIL_FROM: 'Parley <no-reply@parley.test>',
    });
    await start('contact-import', {});
    await start('gateway-xmpp', xmppGatewayEnv());
    await start('api-gateway', { PARLEY_JWT_SECRET: jwtSecret, PARLEY_HTTP_PORT: String(httpPort) });
    baseUrl = `http://127.0.0.1:${httpPort}`;
    ownerUser = await createXmppUser('logged');
    ownerClient = await XmppTestClient.connect(ownerUser);
    await setRosterItems(ownerClient, [
      { jid: `a-${ownerUser.username}@${testEnv.xmpp().domain}`, name: 'A', groups: ['One'] },
      { jid: `b-${ownerUser.username}@${testEnv.xmpp().domain}`, groups: ['Two'] },
    ]);
  }, 180_000);

  afterAll(async () => {
    await ownerClient?.stop();
    await Promise.all(
      processes.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await rpc?.close();
    await mailbox?.close();
    await releaseComponentDomain?.();
  });

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
  }

  it('imports the contacts, and no service logged the password', async () => {
    const email = `logs-${randomBytes(4).toString('hex')}@example.org`;
    const ownerPassword = `pw-${randomBytes(8).toString('hex')}`;
    const registered = await call('POST', '/auth/register', undefined, {
      email,
      password: ownerPassword,
      displayName: 'Log reader',
    });
    expect(registered.status).toBe(201);
    const token = TestMailbox.tokenIn(await mailbox.mailTo(email));
    expect((await call('POST', '/auth/confirm', undefined, { token })).status).toBe(200);
    const login = await call('POST', '/auth/login', undefined, { email, password: ownerPassword });
    const accessToken: string = login.body.accessToken;

    const account = await call('POST', '/im-accounts', accessToken, {
      network: 'xmpp',
      address: ownerUser.jid,
      password: ownerUser.password,
    });
    expect(account.status).toBe(201);
    const queued = await call('POST', `/im-accounts/${account.body.id}/imports`, accessToken);
    expect(queued.status).toBe(202);
    const job = await waitFor(
      'the import to finish',
      async () => {
        const answer = await call('GET', `/imports/${queued.body.id}`, accessToken);
        return ['done', 'failed'].includes(answer.body.state) ? answer.body : undefined;
      },
      30_000,
      100,
    );
    expect(job).toMatchObject({ state: 'done', counts: { added: 2 } });

    // The logs are there (debug level, the import was logged) …
    const logs = processes.map((p) => ({ service: p.service, text: p.output() }));
    const contactImportLog = logs.find((l) => l.service === 'contact-import')!.text;
    expect(contactImportLog).toContain(queued.body.id);
    expect(logs.find((l) => l.service === 'gateway-xmpp')!.text).toContain('contact list read');
    // … and hold the password nowhere, neither plain nor in a SASL PLAIN token.
    const secrets = [
      ownerUser.password,
      Buffer.from(`\0${ownerUser.username}\0${ownerUser.password}`).toString('base64'),
    ];
    for (const { service, text } of logs) {
      for (const secret of secrets) {
        expect(text.includes(secret), `${service} logged the stored password`).toBe(false);
      }
    }
  });
});
