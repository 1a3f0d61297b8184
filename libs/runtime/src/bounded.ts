/**
 * A set that forgets its oldest entries beyond a capacity (an entry added again counts as the newest):
 * memory of recent ids for de-duplication.
 */
export class BoundedSet<T> {
  private readonly items = new Set<T>();

  constructor(private readonly capacity: number) {}

  has(item: T): boolean {
    return this.items.has(item);
  }

  add(item: T): void {
    this.items.delete(item);
    this.items.add(item);
    if (this.items.size > this.capacity) this.items.delete(this.items.values().next().value as T);
  }

  delete(item: T): void {
    this.items.delete(item);
  }
}

/** A map with the same forgetting rule (last known value per key). */
export class BoundedMap<K, V> {
  private readonly items = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.items.get(key);
  }

  set(key: K, value: V): void {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value as K);
  }

  delete(key: K): void {
    this.items.delete(key);
  }
}
