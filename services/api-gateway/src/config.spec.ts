import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from './config.js';

describe('api-gateway configuration', () => {
  it('has no built-in JWT secret and refuses a short one', () => {
    expect(() => loadServiceConfig({})).toThrow(/PARLEY_JWT_SECRET/);
    expect(() => loadServiceConfig({ PARLEY_JWT_SECRET: 'short' })).toThrow(/at least 32 characters/);
  });

  it('defaults the rate limits and trusts no proxy unless told', () => {
    const config = loadServiceConfig({ PARLEY_JWT_SECRET: 's'.repeat(32) });
    expect(config).toMatchObject({
      PARLEY_TRUST_PROXY_HOPS: 0,
      PARLEY_AUTH_RATE_LIMIT_PER_IP: 30,
      PARLEY_AUTH_RATE_LIMIT_PER_ACCOUNT: 5,
      PARLEY_AUTH_RATE_LIMIT_WINDOW_SECONDS: 300,
    });
  });
});
