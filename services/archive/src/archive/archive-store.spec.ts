import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './archive-store.js';

describe('keyset cursors', () => {
  it('round-trips the position within the same conference', () => {
    expect(decodeCursor('team', encodeCursor('team', 37))).toBe(37);
    expect(decodeCursor('team', undefined)).toBe(0);
  });

  it.each([
    ['a cursor of another conference', encodeCursor('other', 37)],
    ['garbage', 'not-a-cursor'],
    ['a negative position', Buffer.from(JSON.stringify({ c: 'team', s: -1 })).toString('base64url')],
    ['a fractional position', Buffer.from(JSON.stringify({ c: 'team', s: 1.5 })).toString('base64url')],
  ])('refuses %s, naming the cursor field', (_what, cursor) => {
    expect(() => decodeCursor('team', cursor)).toThrow(
      expect.objectContaining({ code: 'validation-failed', field: 'cursor' }),
    );
  });
});
