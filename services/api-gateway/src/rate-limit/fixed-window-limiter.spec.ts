import { describe, expect, it } from 'vitest';
import { FixedWindowLimiter } from './fixed-window-limiter.js';

describe('FixedWindowLimiter', () => {
  it('allows up to the limit in a window, then refuses with the time left in it', () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter(60_000, () => now);
    for (let i = 0; i < 3; i++) expect(limiter.hit([{ key: 'ip:a', limit: 3 }]).allowed).toBe(true);
    now += 15_000;
    expect(limiter.hit([{ key: 'ip:a', limit: 3 }])).toEqual({ allowed: false, retryAfterSeconds: 45 });
    now += 45_000;
    expect(limiter.hit([{ key: 'ip:a', limit: 3 }]).allowed).toBe(true);
  });

  it('refuses when any of the keys is over its limit, and counts keys separately', () => {
    const limiter = new FixedWindowLimiter(60_000, () => 0);
    expect(
      limiter.hit([
        { key: 'ip:a', limit: 10 },
        { key: 'acct:x', limit: 1 },
      ]).allowed,
    ).toBe(true);
    expect(
      limiter.hit([
        { key: 'ip:a', limit: 10 },
        { key: 'acct:x', limit: 1 },
      ]).allowed,
    ).toBe(false);
    expect(
      limiter.hit([
        { key: 'ip:a', limit: 10 },
        { key: 'acct:y', limit: 1 },
      ]).allowed,
    ).toBe(true);
  });

  it('forgets expired windows so memory stays bounded', () => {
    let now = 0;
    const limiter = new FixedWindowLimiter(1_000, () => now);
    for (let i = 0; i < 100; i++) limiter.hit([{ key: `ip:${i}`, limit: 5 }]);
    now += 2_000;
    limiter.hit([{ key: 'ip:new', limit: 5 }]);
    expect(limiter.size).toBe(1);
  });
});
