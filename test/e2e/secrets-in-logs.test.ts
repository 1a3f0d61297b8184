/**
 * Issue 13, "logs redact passwords, tokens, authorization headers and secrets": every service of
 * an owner's journey runs in this process (accounts, api-gateway, conference-core, archive,
 * gateway-xmpp) with its logs captured at debug level — the most talkative an operator can set —
 * while the test registers, confirms, logs in, stores IM accounts with known passwords, fails and
 * retries, runs an XMPP conference with a real client, reads the decrypted credentials as the
 * contact import would, changes the password and deletes the account. Then it scans every captured line for each
 * password, token and secret it used: none may appear. (Debug lines carrying those bodies exist —
 * the test checks that too — so the scan is not vacuous.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RpcClient } from '@parley/bus';
import { accountsRpc } from '@parley/contracts';
import { captureLogs, type CapturedLogs } from '@parley/observability';
import {
  createXmppUser,
  holdXmppComponentDomain,
  serviceTestEnv,
  startTestService,
  testEnv,
  waitFor,
  XmppTestClient,
  type XmppTestUser,
  TestMailbox,
} from '@parley/testing';
import { AppModule as XmppGatewayModule } from '../../services/gateway-xmpp/src/app.module.js';
import { loadServiceConfig as loadXmppGatewayConfig } from '../../services/gateway-xmpp/src/config.js';
import { newEmail, startStack, type Stack } from '../../services/api-gateway/test/support/stack.js';

/** This file's component domain: set once one is held (holdXmppComponentDomain). */
let componentDomain = testEnv.xmpp().componentDomain;

describe('secrets never reach the logs', () => {
  let logs: CapturedLogs;
  let releaseComponentDomain: (() => Promise<void>) | undefined;
  let stack: Stack;
  let xmppGateway: NestFastifyApplication;
  let rpc: RpcClient;
  let participant: XmppTestUser;
  let client: XmppTestClient;
  /** Every secret the journey handled, by what it is. */
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    logs = captureLogs('debug');
    releaseComponentDomain = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain;
    stack = await startStack({ archive: true });
    const xmppConfig = loadXmppGatewayConfig(serviceTestEnv('gateway-xmpp'));
    xmppGateway = await startTestService('gateway-xmpp', XmppGatewayModule.forRoot(xmppConfig));
    rpc = RpcClient.create(testEnv.natsUrl());
    await rpc.connect();
    participant = await createXmppUser('logscan');
    client = await XmppTestClient.connect(participant, { autoAcceptSubscriptions: true });
    secrets.set('JWT secret', stack.secrets.jwtSecret);
    secrets.set('IM-password key', stack.secrets.secretsKey);
    secrets.set('XMPP component secret', xmppConfig.PARLEY_XMPP_COMPONENT_SECRET);
    secrets.set('participant XMPP password', participant.password);
  }, 300_000);

  afterAll(async () => {
    await client?.stop();
    await rpc?.close();
    await xmppGateway?.close();
    await stack?.close();
    await releaseComponentDomain?.();
    logs?.stop();
  });

  it('runs the owner journey with IM accounts and an XMPP conference, logging at debug', async () => {
    const email = newEmail('logscan');
    const password = `owner-pw-${crypto.randomUUID()}`;
    secrets.set('owner password', password);
    const seen = stack.mailbox.mails.length;
    const registered = await stack.request('POST', '/api/v1/auth/register', {
      body: { email, password, displayName: 'Log Scan' },
    });
    expect(registered.status).toBe(201);
    const firstToken = TestMailbox.tokenIn(await stack.mailbox.mailTo(email, seen));
    secrets.set('confirmation token', firstToken);
    // A second registration attempt with another password, and a resend: both carry secrets too.
    const squatterPassword = `squatter-pw-${crypto.randomUUID()}`;
    secrets.set('refused registration password', squatterPassword);
    expect(
      (
        await stack.request('POST', '/api/v1/auth/register', {
          body: { email, password: squatterPassword, displayName: 'Squatter' },
        })
      ).status,
    ).toBe(409);
    const beforeResend = stack.mailbox.mails.length;
    expect(
      (await stack.request('POST', '/api/v1/auth/resend-confirmation', { body: { email } })).status,
    ).toBe(202);
    const resentToken = TestMailbox.tokenIn(await stack.mailbox.mailTo(email, beforeResend));
    secrets.set('resent confirmation token', resentToken);
    expect(
      (await stack.request('POST', '/api/v1/auth/confirm', { body: { token: resentToken } })).status,
    ).toBe(200);

    const wrongPassword = `wrong-pw-${crypto.randomUUID()}`;
    secrets.set('wrong password tried', wrongPassword);
    expect(
      (await stack.request('POST', '/api/v1/auth/login', { body: { email, password: wrongPassword } }))
        .status,
    ).toBe(401);
    const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password } });
    expect(login.status).toBe(200);
    const token: string = login.body.accessToken;
    secrets.set('access token', token);
    // The token's signature alone is as good as the token for a forger's purposes.
    secrets.set('access token signature', token.split('.')[2]!);

    const api = (method: string, path: string, body?: unknown) =>
      stack.request(method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

    const imPassword = `xmpp-im-pw-${crypto.randomUUID()}`;
    const ircPassword = `irc-im-pw-${crypto.randomUUID()}`;
    secrets.set('XMPP IM password', imPassword);
    secrets.set('IRC IM password', ircPassword);
    const xmppAccount = await api('POST', '/im-accounts', {
      network: 'xmpp',
      address: `owner-${crypto.randomUUID().slice(0, 6)}@localhost`,
      password: imPassword,
    });
    expect(xmppAccount.status).toBe(201);
    expect(
      (
        await api('POST', '/im-accounts', {
          network: 'irc',
          address: 'owner@irc.localhost:6667',
          password: ircPassword,
        })
      ).status,
    ).toBe(201);
    // A refused body that carries a password (unknown network) is logged as a failed request too.
    const refusedPassword = `refused-im-pw-${crypto.randomUUID()}`;
    secrets.set('password of a refused IM account', refusedPassword);
    expect(
      (
        await api('POST', '/im-accounts', {
          network: 'carrier-pigeon',
          address: 'x',
          password: refusedPassword,
        })
      ).status,
    ).toBe(400);
    // What the contact import does: read the decrypted credentials over the bus.
    const credentials = await rpc.call(accountsRpc.imAccountCredentials, {
      ownerId: registered.body.id,
      imAccountId: xmppAccount.body.id,
    });
    expect(credentials.password).toBe(imPassword);

    // A conference with a real XMPP participant: invitation, join, a message, history, close.
    const created = await api('POST', '/conferences', { name: 'Log scan', subject: 'Secrets stay out' });
    expect(created.status).toBe(201);
    const conferenceId: string = created.body.id;
    const bot = `${conferenceId}@${componentDomain}`;
    expect(
      (
        await api('POST', `/conferences/${conferenceId}/participants`, {
          participants: [{ network: 'xmpp', address: participant.jid }],
        })
      ).status,
    ).toBe(201);
    expect((await api('POST', `/conferences/${conferenceId}/start`)).status).toBe(200);
    await client.waitForMessage(bot, /You are invited/, 15_000);
    await client.sendMessage(bot, '/join');
    await client.waitForMessage(bot, /You joined "Log scan"/, 15_000);
    const answered = client.messagesFrom(bot).length;
    await client.sendMessage(bot, '/history');
    await waitFor('the answer to /history', () => client.messagesFrom(bot).length > answered, 15_000);
    expect((await api('GET', `/conferences/${conferenceId}/history`)).status).toBe(200);
    expect((await api('POST', `/conferences/${conferenceId}/close`)).status).toBe(200);
    await client.waitForMessage(bot, /Goodbye!/, 15_000);

    const newPassword = `new-owner-pw-${crypto.randomUUID()}`;
    secrets.set('new owner password', newPassword);
    expect((await api('POST', '/me/password', { currentPassword: password, newPassword })).status).toBe(204);
    // And the account goes: deletion travels over the bus to conference-core and the archive.
    expect((await api('DELETE', '/me')).status).toBe(204);
    expect((await api('GET', '/me')).status).toBe(404);
  });

  it('logged the journey at debug, with the sensitive fields redacted', () => {
    const lines = logs.lines();
    // Not vacuous: the request bodies and replies carrying secrets were logged, redacted.
    const rpcTrace = lines.filter((l) => l.includes('"msg":"RPC answered"'));
    expect(
      rpcTrace.some((l) => l.includes('.rpc.accounts.login') && l.includes('"accessToken":"[REDACTED]"')),
    ).toBe(true);
    expect(
      rpcTrace.some(
        (l) => l.includes('.rpc.accounts.createImAccount') && l.includes('"password":"[REDACTED]"'),
      ),
    ).toBe(true);
    const requests = lines.filter((l) => l.includes('"msg":"request completed"'));
    expect(requests.some((l) => l.includes('"authorization":"[REDACTED]"'))).toBe(true);
  });

  it('finds none of the passwords, tokens and secrets in any captured line', () => {
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    const leaked = [...secrets]
      .filter(([, value]) => value.length >= 8 && text.includes(value))
      .map(([what]) => what);
    expect(leaked).toEqual([]);
  });
});
