/**
 * Rate limits on register, login and confirm: per client IP and per account, answered 429 with a
 * Retry-After. The gateway trusts one proxy hop here, so each test acts from its own client IP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEmail, startStack, type HttpAnswer, type Stack } from './support/stack.js';

const WINDOW_SECONDS = 600;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    gatewayEnv: {
      PARLEY_TRUST_PROXY_HOPS: '1',
      PARLEY_AUTH_RATE_LIMIT_PER_IP: '5',
      PARLEY_AUTH_RATE_LIMIT_PER_ACCOUNT: '3',
      PARLEY_AUTH_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
    },
  });
});

afterAll(async () => {
  await stack?.close();
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });

function expectRateLimited(answer: HttpAnswer) {
  expect(answer.status).toBe(429);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ type: 'urn:parley:problem:rate-limited', status: 429 });
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
}

describe('rate limits', () => {
  it('limits login attempts per account, whichever IPs they come from', async () => {
    const email = newEmail('target');
    const attempt = (ip: string) =>
      stack.request('POST', '/api/v1/auth/login', {
        body: { email, password: 'guess guess guess' },
        headers: from(ip),
      });
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3'])
      expect((await attempt(ip)).status).toBe(401);
    expectRateLimited(await attempt('203.0.113.4'));
    // Another account from the same IP is not affected.
    const other = await stack.request('POST', '/api/v1/auth/login', {
      body: { email: newEmail('other'), password: 'guess guess guess' },
      headers: from('203.0.113.4'),
    });
    expect(other.status).toBe(401);
  });

  it('limits registrations per IP, whichever accounts they are for', async () => {
    const register = (ip: string) =>
      stack.request('POST', '/api/v1/auth/register', {
        body: { email: newEmail('bulk'), password: 'a long enough password', displayName: 'Bulk' },
        headers: from(ip),
      });
    for (let i = 0; i < 5; i++) expect((await register('198.51.100.7')).status).toBe(201);
    expectRateLimited(await register('198.51.100.7'));
    expect((await register('198.51.100.8')).status).toBe(201);
  });

  it('limits confirmation attempts per IP, and a forged X-Forwarded-For prefix does not escape it', async () => {
    // A different token each time: the per-account limit (per token here) stays out of the way.
    let n = 0;
    const confirm = (forwardedFor: string) =>
      stack.request('POST', '/api/v1/auth/confirm', {
        body: { token: `${'B'.repeat(40)}${String(++n).padStart(3, '0')}` },
        headers: { 'x-forwarded-for': forwardedFor },
      });
    for (let i = 0; i < 5; i++) expect((await confirm(`10.9.9.${i}, 192.0.2.50`)).status).toBe(400);
    expectRateLimited(await confirm('10.9.9.99, 192.0.2.50'));
  });

  it('does not limit the other endpoints', async () => {
    for (let i = 0; i < 8; i++) {
      expect((await stack.request('GET', '/api/v1/me', { headers: from('192.0.2.77') })).status).toBe(401);
    }
  });
});
