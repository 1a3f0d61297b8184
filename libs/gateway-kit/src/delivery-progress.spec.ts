import { describe, expect, it } from 'vitest';
import { decodeServed, encodeServed } from './delivery-progress.js';

describe('the served-recipients bitmap of a fan-out', () => {
  it('round-trips any set of recipient indices', () => {
    const served = new Set([0, 7, 8, 1_000, 1_999]);
    expect(decodeServed(encodeServed(served, 2_000), 2_000)).toEqual(served);
  });

  it('stays within 336 characters for the largest fan-out', () => {
    const all = new Set(Array.from({ length: 2_000 }, (_, i) => i));
    expect(encodeServed(all, 2_000).length).toBeLessThanOrEqual(336);
  });

  it('reads an empty value as nobody served', () => {
    expect(decodeServed('', 5)).toEqual(new Set());
  });
});
