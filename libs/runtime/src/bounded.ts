/**
 * Memories of recent ids for de-duplication that forget their oldest entries beyond a capacity (an
 * entry added again counts as the newest): BoundedMap, and BoundedSet on top of it.
 *
 * The oldest entry is found with one iterator kept across evictions: a JavaScript Set or Map keeps
 * insertion order, and a removed entry leaves a hole that an iterator started afresh must step over
 * every time. Starting afresh for each eviction (`values().next()`) cost 40 µs per add at a capacity
 * of 100,000 against 0.4 µs now, and gateways add two entries per delivery: at N = 500 that was
 * most of gateway-xmpp's CPU (docs/performance.md, eighth session).
 */

/**
 * What a map's values may weigh together (e.g. the bytes of the texts they hold), beyond which the
 * oldest are forgotten too: a memory bounded by count alone grows with the size of its values.
 */
export interface WeightBudget<V> {
  /** The weight of one value; the same value must always weigh the same. */
  weigh(value: V): number;
  max: number;
}

/**
 * A map that keeps the last value per key and forgets the key set least recently first: beyond
 * `capacity` entries, and beyond the weight budget if one is given.
 */
export class BoundedMap<K, V> {
  private readonly items = new Map<K, V>();
  private oldest: IterableIterator<K> = this.items.keys();
  private weight = 0;

  constructor(
    private readonly capacity: number,
    private readonly budget?: WeightBudget<V>,
  ) {}

  get(key: K): V | undefined {
    return this.items.get(key);
  }

  set(key: K, value: V): void {
    this.delete(key);
    this.items.set(key, value);
    if (this.budget) this.weight += this.budget.weigh(value);
    if (this.items.size > this.capacity) this.delete(this.nextOldest());
    while (this.budget && this.weight > this.budget.max && this.items.size > 0)
      this.delete(this.nextOldest());
  }

  delete(key: K): void {
    if (this.budget && this.items.has(key)) this.weight -= this.budget.weigh(this.items.get(key) as V);
    this.items.delete(key);
  }

  private nextOldest(): K {
    let next = this.oldest.next();
    if (next.done) {
      this.oldest = this.items.keys();
      next = this.oldest.next();
    }
    return next.value as K;
  }
}

/** A set with BoundedMap's forgetting rule. */
export class BoundedSet<T> {
  private readonly entries: BoundedMap<T, true>;

  constructor(capacity: number) {
    this.entries = new BoundedMap<T, true>(capacity);
  }

  has(item: T): boolean {
    return this.entries.get(item) === true;
  }

  add(item: T): void {
    this.entries.set(item, true);
  }

  delete(item: T): void {
    this.entries.delete(item);
  }
}
