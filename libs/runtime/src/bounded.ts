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

/** A map that keeps the last value per key and forgets the key set least recently first. */
export class BoundedMap<K, V> {
  private readonly items = new Map<K, V>();
  private oldest: IterableIterator<K> = this.items.keys();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.items.get(key);
  }

  set(key: K, value: V): void {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) this.items.delete(this.nextOldest());
  }

  delete(key: K): void {
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
