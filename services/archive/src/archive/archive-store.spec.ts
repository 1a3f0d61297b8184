import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './archive-store.js';

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('keyset cursors', () => {
  it('round-trips the position within the same conference', () => {
    expect(decodeCursor('team', encodeCursor('team', { seq: 37, collision: 0 }))).toEqual({
      seq: 37,
      collision: 0,
    });
    expect(decodeCursor('team', encodeCursor('team', { seq: 37, collision: 2 }))).toEqual({
      seq: 37,
      collision: 2,
    });
    expect(decodeCursor('team', undefined)).toEqual({ seq: 0, collision: 0 });
  });

  it('reads a cursor handed out before seqs could be reused (no collision) as collision 0', () => {
    expect(decodeCursor('team', cursorOf({ c: 'team', s: 37 }))).toEqual({ seq: 37, collision: 0 });
    expect(encodeCursor('team', { seq: 37, collision: 0 })).toBe(cursorOf({ c: 'team', s: 37 }));
  });

  it.each([
    ['a cursor of another conference', encodeCursor('other', { seq: 37, collision: 0 })],
    ['garbage', 'not-a-cursor'],
    ['a negative position', cursorOf({ c: 'team', s: -1 })],
    ['a fractional position', cursorOf({ c: 'team', s: 1.5 })],
    ['a negative collision', cursorOf({ c: 'team', s: 3, k: -1 })],
    ['a collision that is not a number', cursorOf({ c: 'team', s: 3, k: '1' })],
  ])('refuses %s, naming the cursor field', (_what, cursor) => {
    expect(() => decodeCursor('team', cursor)).toThrow(
      expect.objectContaining({ code: 'validation-failed', field: 'cursor' }),
    );
  });
});
