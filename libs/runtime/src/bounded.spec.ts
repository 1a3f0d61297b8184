import { describe, expect, it } from 'vitest';
import { BoundedMap, BoundedSet } from './bounded.js';

/** A repeatable run of whole numbers below n (a linear congruential generator). */
function seededRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
}

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

describe('BoundedSet against a plain list of the newest entries', () => {
  it('holds exactly the newest entries through long runs of adds, re-adds and deletes', () => {
    // The set keeps one iterator across evictions: check it never forgets the wrong entry.
    const random = seededRandom(7);
    for (const capacity of [1, 2, 3, 5, 8]) {
      const set = new BoundedSet<string>(capacity);
      let newest: string[] = [];
      for (let step = 0; step < 2_000; step++) {
        const id = `v${random(12)}`;
        if (random(5) === 0) {
          set.delete(id);
          newest = newest.filter((x) => x !== id);
        } else {
          set.add(id);
          newest = [...newest.filter((x) => x !== id), id].slice(-capacity);
        }
        for (let v = 0; v < 12; v++) expect(set.has(`v${v}`)).toBe(newest.includes(`v${v}`));
      }
    }
  });
});

describe('BoundedMap with a weight budget, against a plain list of the newest entries', () => {
  it('holds the newest entries whose weights fit the budget, and never more than its capacity', () => {
    const random = seededRandom(11);
    for (const [capacity, max] of [
      [3, 10],
      [5, 4],
      [8, 25],
      [100, 12],
    ] as const) {
      // A value is its weight: a text of that many characters, say.
      const map = new BoundedMap<string, number>(capacity, { weigh: (weight) => weight, max });
      let newest: Array<[string, number]> = [];
      for (let step = 0; step < 2_000; step++) {
        const key = `k${random(12)}`;
        if (random(5) === 0) {
          map.delete(key);
          newest = newest.filter(([k]) => k !== key);
        } else {
          const weight = random(7);
          map.set(key, weight);
          newest = [...newest.filter(([k]) => k !== key), [key, weight] as [string, number]].slice(-capacity);
          while (newest.reduce((sum, [, w]) => sum + w, 0) > max) newest = newest.slice(1);
        }
        for (let k = 0; k < 12; k++) {
          expect(map.get(`k${k}`)).toBe(newest.find(([key]) => key === `k${k}`)?.[1]);
        }
      }
    }
  });

  it('forgets the oldest first, so a value heavier than the whole budget leaves nothing, itself included', () => {
    const map = new BoundedMap<string, string>(10, { weigh: (text) => text.length, max: 8 });
    map.set('a', 'abc');
    map.set('b', 'abc');
    map.set('huge', 'x'.repeat(9));
    expect([map.get('a'), map.get('b'), map.get('huge')]).toEqual([undefined, undefined, undefined]);
    map.set('c', 'abcd');
    map.set('d', 'abcd');
    map.set('e', 'a');
    expect([map.get('c'), map.get('d'), map.get('e')]).toEqual([undefined, 'abcd', 'a']);
  });
});
