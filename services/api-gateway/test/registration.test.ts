/**
 * Issue 13, registration takeover: a second registration of an address that waits for its
 * confirmation never changes the first one (409 "check your mail, or ask for a new one"), the
 * confirmed account keeps the first password, and POST /auth/resend-confirmation mails the
 * registration's token again while answering every address alike. Real accounts, api-gateway
 * and SMTP listener.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestMailbox } from '@parley/testing';
import { newEmail, startStack, type Stack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  // Each test acts from its own client IP (one trusted proxy hop), so the per-IP limits stay apart.
  stack = await startStack({ gatewayEnv: { PARLEY_TRUST_PROXY_HOPS: '1' } });
});

afterAll(async () => {
  await stack?.close();
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });

async function login(email: string, password: string) {
  return (await stack.request('POST', '/api/v1/auth/login', { body: { email, password } })).status;
}

describe('a registration waiting for its confirmation', () => {
  it('refuses a second registration of the address, and the confirmed account keeps the first password', async () => {
    const email = newEmail('victim');
    const seen = stack.mailbox.mails.length;
    const first = await stack.request('POST', '/api/v1/auth/register', {
      body: { email, password: 'the first password', displayName: 'Victim' },
      headers: from('192.0.2.11'),
    });
    expect(first.status).toBe(201);
    const firstMail = await stack.mailbox.mailTo(email, seen);

    const second = await stack.request('POST', '/api/v1/auth/register', {
      body: { email: email.toUpperCase(), password: 'the squatter password', displayName: 'Squatter' },
      headers: from('192.0.2.12'),
    });
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(second.body).toMatchObject({ type: 'urn:parley:problem:conflict', status: 409, field: 'email' });
    expect(second.body.detail).toContain('check your mail, or ask for a new one');
    expect(second.body.detail).toContain('/auth/resend-confirmation');
    // No second mail, and the first mail's token still works.
    expect(stack.mailbox.mails.slice(seen).filter((m) => m.to.includes(email))).toHaveLength(1);
    const confirmed = await stack.request('POST', '/api/v1/auth/confirm', {
      body: { token: TestMailbox.tokenIn(firstMail) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: first.body.id, displayName: 'Victim', emailConfirmed: true });

    expect(await login(email, 'the first password')).toBe(200);
    expect(await login(email, 'the squatter password')).toBe(401);
  });

  it('mails a new token on request, which confirms the first registration with its own password', async () => {
    const email = newEmail('resend');
    const seen = stack.mailbox.mails.length;
    const registered = await stack.request('POST', '/api/v1/auth/register', {
      body: { email, password: 'my own password', displayName: 'Resender' },
      headers: from('192.0.2.21'),
    });
    expect(registered.status).toBe(201);
    const firstToken = TestMailbox.tokenIn(await stack.mailbox.mailTo(email, seen));

    const afterFirst = stack.mailbox.mails.length;
    const resent = await stack.request('POST', '/api/v1/auth/resend-confirmation', {
      body: { email },
      headers: from('192.0.2.21'),
    });
    expect(resent.status).toBe(202);
    expect(resent.body).toEqual({});
    const mail = await stack.mailbox.mailTo(email, afterFirst);
    expect(mail.subject).toBe('Confirm your Parley account');
    const newToken = TestMailbox.tokenIn(mail);
    expect(newToken).not.toBe(firstToken);

    expect((await stack.request('POST', '/api/v1/auth/confirm', { body: { token: newToken } })).status).toBe(
      200,
    );
    expect(await login(email, 'my own password')).toBe(200);
    // The account is confirmed now: asking again sends nothing, and is answered the same.
    const count = stack.mailbox.mails.length;
    const again = await stack.request('POST', '/api/v1/auth/resend-confirmation', {
      body: { email },
      headers: from('192.0.2.21'),
    });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({});
    // A registration for another address afterwards is the next mail: nothing was sent in between.
    const marker = newEmail('marker');
    await stack.request('POST', '/api/v1/auth/register', {
      body: { email: marker, password: 'marker password', displayName: 'Marker' },
      headers: from('192.0.2.22'),
    });
    await stack.mailbox.mailTo(marker, count);
    expect(stack.mailbox.mails.slice(count).map((m) => m.to)).toEqual([[marker]]);
  });

  it('answers an unknown address exactly like a pending one, and sends it nothing', async () => {
    const unknown = newEmail('nobody');
    const count = stack.mailbox.mails.length;
    const answer = await stack.request('POST', '/api/v1/auth/resend-confirmation', {
      body: { email: unknown },
      headers: from('192.0.2.31'),
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({});
    const marker = newEmail('marker');
    await stack.request('POST', '/api/v1/auth/register', {
      body: { email: marker, password: 'marker password', displayName: 'Marker' },
      headers: from('192.0.2.32'),
    });
    await stack.mailbox.mailTo(marker, count);
    expect(stack.mailbox.mails.slice(count).map((m) => m.to)).toEqual([[marker]]);
  });

  it('rate-limits asking again per address, with a 429 problem', async () => {
    const email = newEmail('flood');
    const statuses: number[] = [];
    // The default per-account limit is 5 attempts per window, whichever IPs they come from.
    for (let i = 0; i < 6; i++) {
      const answer = await stack.request('POST', '/api/v1/auth/resend-confirmation', {
        body: { email },
        headers: from(`198.51.100.${40 + i}`),
      });
      statuses.push(answer.status);
      if (answer.status === 429) {
        expect(answer.body).toMatchObject({ type: 'urn:parley:problem:rate-limited' });
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });

  it('rejects a malformed body with a precise 400 problem', async () => {
    const answer = await stack.request('POST', '/api/v1/auth/resend-confirmation', {
      body: { email: 'not an address', extra: 1 },
      headers: from('192.0.2.51'),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('urn:parley:problem:validation-failed');
  });
});
