import { describe, expect, it } from 'vitest';
import { BoundedMap, BoundedSet } from './bounded.js';

describe('BoundedSet', () => {
  it('forgets the oldest entry beyond its capacity, counting one added again as the newest', () => {
    const set = new BoundedSet<string>(2);
    set.add('a');
    set.add('b');
    set.add('a'); // a is now the newest
    set.add('c'); // b, the oldest, goes
    expect(['a', 'b', 'c'].map((id) => set.has(id))).toEqual([true, false, true]);
    set.delete('a');
    expect(set.has('a')).toBe(false);
  });
});

describe('BoundedMap', () => {
  it('keeps the last value per key and forgets the key set least recently', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('x', 1);
    map.set('y', 2);
    map.set('x', 3); // x is now the newest, with its last value
    map.set('z', 4); // y goes
    expect([map.get('x'), map.get('y'), map.get('z')]).toEqual([3, undefined, 4]);
    map.delete('z');
    expect(map.get('z')).toBeUndefined();
  });
});
