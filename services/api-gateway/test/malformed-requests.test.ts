/**
 * Malformed requests, each answered with the right 4xx and an RFC 9457 problem naming the field —
 * never a stack trace, never a 500. Runs against the real accounts service (some refusals are its).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwner, startStack, type Stack, type TestOwner } from './support/stack.js';

let stack: Stack;
let owner: TestOwner;

beforeAll(async () => {
  stack = await startStack({ gatewayEnv: { PARLEY_AUTH_RATE_LIMIT_PER_IP: '10000' } });
  owner = await createOwner(stack, 'malformed');
});

afterAll(async () => {
  await stack?.close();
});

interface Case {
  name: string;
  method: string;
  path: string;
  /** Send the test owner's access token. */
  auth?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  type: string;
  field?: string;
  detail?: RegExp;
}

const problem = (code: string) => `urn:parley:problem:${code}`;
const valid = { email: 'someone@example.org', password: 'a long enough password', displayName: 'Someone' };

const cases: Case[] = [
  {
    name: 'register: body is not JSON',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: '{"email": ',
    status: 400,
    type: problem('validation-failed'),
    field: 'body',
    detail: /not valid JSON/,
  },
  {
    name: 'register: body is an array',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: [valid],
    status: 400,
    type: problem('validation-failed'),
    field: 'body',
  },
  {
    name: 'register: no body at all',
    method: 'POST',
    path: '/api/v1/auth/register',
    status: 400,
    type: problem('validation-failed'),
    field: 'body',
  },
  {
    name: 'register: e-mail missing',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { password: valid.password, displayName: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'email',
  },
  {
    name: 'register: e-mail malformed',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, email: 'not-an-email' },
    status: 400,
    type: problem('validation-failed'),
    field: 'email',
    detail: /e-mail address/,
  },
  {
    name: 'register: e-mail is an object',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, email: { $ne: '' } },
    status: 400,
    type: problem('validation-failed'),
    field: 'email',
  },
  {
    name: 'register: password shorter than 10',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, password: 'short' },
    status: 400,
    type: problem('validation-failed'),
    field: 'password',
    detail: /at least 10/,
  },
  {
    name: 'register: password equal to the e-mail',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, password: 'Someone@Example.org' },
    status: 400,
    type: problem('validation-failed'),
    field: 'password',
    detail: /must not be the e-mail/,
  },
  {
    name: 'register: unknown field',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, isAdmin: true },
    status: 400,
    type: problem('validation-failed'),
    field: 'isAdmin',
    detail: /unknown field "isAdmin"/,
  },
  {
    name: 'register: blank display name',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, displayName: '   ' },
    status: 400,
    type: problem('validation-failed'),
    field: 'displayName',
  },
  {
    name: 'register: display name is a number',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, displayName: 42 },
    status: 400,
    type: problem('validation-failed'),
    field: 'displayName',
  },
  {
    name: 'register: text/plain body',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: JSON.stringify(valid),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    type: 'about:blank',
  },
  {
    name: 'register: body over 1 MiB',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: { ...valid, displayName: 'x'.repeat(1_100_000) },
    status: 413,
    type: 'about:blank',
  },
  {
    name: 'confirm: token of the wrong shape',
    method: 'POST',
    path: '/api/v1/auth/confirm',
    body: { token: 'abc' },
    status: 400,
    type: problem('validation-failed'),
    field: 'token',
  },
  {
    name: 'confirm: unknown field beside the token',
    method: 'POST',
    path: '/api/v1/auth/confirm',
    body: { token: 'A'.repeat(43), email: 'x@example.org' },
    status: 400,
    type: problem('validation-failed'),
    field: 'email',
  },
  {
    name: 'login: password missing',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: { email: 'someone@example.org' },
    status: 400,
    type: problem('validation-failed'),
    field: 'password',
  },
  {
    name: 'login: e-mail null',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: { email: null, password: 'whatever it is' },
    status: 400,
    type: problem('validation-failed'),
    field: 'email',
  },
  {
    name: 'me: no access token',
    method: 'GET',
    path: '/api/v1/me',
    status: 401,
    type: problem('unauthorized'),
  },
  {
    name: 'me: Basic instead of Bearer',
    method: 'GET',
    path: '/api/v1/me',
    headers: { authorization: 'Basic YWRhOnNlY3JldA==' },
    status: 401,
    type: problem('unauthorized'),
  },
  {
    name: 'PATCH me: nothing to change',
    method: 'PATCH',
    path: '/api/v1/me',
    auth: true,
    body: {},
    status: 400,
    type: problem('validation-failed'),
    detail: /displayName and\/or email/,
  },
  {
    name: 'PATCH me: password is not editable here',
    method: 'PATCH',
    path: '/api/v1/me',
    auth: true,
    body: { password: 'new password 123' },
    status: 400,
    type: problem('validation-failed'),
    field: 'password',
    detail: /unknown field/,
  },
  {
    name: 'PATCH me: malformed e-mail',
    method: 'PATCH',
    path: '/api/v1/me',
    auth: true,
    body: { email: 'nope' },
    status: 400,
    type: problem('validation-failed'),
    field: 'email',
  },
  {
    name: 'me/password: current password missing',
    method: 'POST',
    path: '/api/v1/me/password',
    auth: true,
    body: { newPassword: 'a new long password' },
    status: 400,
    type: problem('validation-failed'),
    field: 'currentPassword',
  },
  {
    name: 'me/password: new password too short',
    method: 'POST',
    path: '/api/v1/me/password',
    auth: true,
    body: { currentPassword: 'whatever', newPassword: 'short' },
    status: 400,
    type: problem('validation-failed'),
    field: 'newPassword',
  },
  {
    name: 'im-accounts: unknown network',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'msn', address: 'a@b.c', password: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'network',
  },
  {
    name: 'im-accounts: XMPP address without @',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'xmpp', address: 'alice', password: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'address',
    detail: /must look like user@domain/,
  },
  {
    name: 'im-accounts: XMPP address with a resource',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'xmpp', address: 'alice@example.org/phone', password: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'address',
    detail: /bare JID/,
  },
  {
    name: 'im-accounts: XMPP domain not a host name',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'xmpp', address: 'alice@exa mple', password: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'address',
    detail: /domain part/,
  },
  {
    name: 'im-accounts: IRC address without server',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'irc', address: 'alice', password: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'address',
    detail: /nick@server\[:port\]/,
  },
  {
    name: 'im-accounts: IRC port out of range',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'irc', address: 'alice@irc.example.org:99999', password: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'address',
    detail: /port must be 1–65535/,
  },
  {
    name: 'im-accounts: IRC nick starting with a digit',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'irc', address: '9lives@irc.example.org', password: 'x' },
    status: 400,
    type: problem('validation-failed'),
    field: 'address',
    detail: /nick is not valid/,
  },
  {
    name: 'im-accounts: password missing',
    method: 'POST',
    path: '/api/v1/im-accounts',
    auth: true,
    body: { network: 'xmpp', address: 'alice@example.org' },
    status: 400,
    type: problem('validation-failed'),
    field: 'password',
  },
  {
    name: 'im-accounts: id is not a UUID',
    method: 'GET',
    path: '/api/v1/im-accounts/42',
    auth: true,
    status: 400,
    type: problem('validation-failed'),
    field: 'id',
  },
  {
    name: 'im-accounts: no such id',
    method: 'DELETE',
    path: `/api/v1/im-accounts/${randomUUID()}`,
    auth: true,
    status: 404,
    type: problem('not-found'),
  },
  {
    name: 'no such route',
    method: 'GET',
    path: '/api/v1/nowhere',
    auth: true,
    status: 404,
    type: problem('not-found'),
  },
];

describe('malformed requests', () => {
  it('has a table of at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('$name → $status', async (c) => {
    const answer = await stack.request(c.method, c.path, {
      body: c.body,
      headers: c.headers,
      token: c.auth ? owner.token : undefined,
    });
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(c.status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({
      type: c.type,
      status: c.status,
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(answer.body.instance).toBe(c.path);
    if (c.field !== undefined) expect(answer.body.field).toBe(c.field);
    if (c.detail) expect(answer.body.detail).toMatch(c.detail);
    // No stack traces, no internals.
    expect(JSON.stringify(answer.body)).not.toMatch(/\bat .+\.(js|ts):\d+|stack|node_modules/);
  });

  it('lists every invalid field when there are several', async () => {
    const answer = await stack.request('POST', '/api/v1/auth/register', {
      body: { email: 'nope', password: 'short', displayName: '', role: 'admin' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'displayName',
      'email',
      'password',
      'role',
    ]);
  });

  it('stays healthy after all of them', async () => {
    const me = await stack.request('GET', '/api/v1/me', { token: owner.token });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(owner.email);
  });
});
