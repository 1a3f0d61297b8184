import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  const limits = {
    network: { perSecond: 10, burst: 4 },
    recipient: { perSecond: 1, burst: 2 },
    sender: { perSecond: 1, burst: 1 },
  };

  it('lets a recipient burst, then paces them at their rate', () => {
    let now = 0;
    const limiter = new RateLimiter(limits, () => now);
    limiter.record('alice');
    limiter.record('alice');
    expect(limiter.delayFor('alice')).toBe(1_000);
    expect(limiter.delayFor('bob')).toBe(0);
    now = 1_000;
    expect(limiter.delayFor('alice')).toBe(0);
  });

  it('caps the whole network whoever the recipients are', () => {
    let now = 0;
    const limiter = new RateLimiter(limits, () => now);
    for (const who of ['a', 'b', 'c', 'd']) limiter.record(who);
    expect(limiter.delayFor('e')).toBe(100);
    now = 100;
    expect(limiter.delayFor('e')).toBe(0);
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap, within ±20 %', () => {
    const options = { initialMs: 500, maxMs: 4_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, options, () => 0.5))).toEqual([
      500, 1_000, 2_000, 4_000, 4_000,
    ]);
    expect(backoffDelay(1, options, () => 0)).toBe(400);
    expect(backoffDelay(1, options, () => 1)).toBe(600);
  });
});
