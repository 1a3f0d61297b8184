/**
 * The presence KV bucket: one entry per identity, written with optimistic concurrency (each write
 * names the revision it was computed from), so replicas never overwrite each other's updates.
 * Inside one replica, writes to one identity are serialized and the last revision is cached, so
 * the common case is one KV round trip per update; a stale cache only costs a conflict and a re-read.
 */
import { Inject, Injectable } from '@nestjs/common';
import { JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Counter } from 'prom-client';
import type { JetStreamBus } from '@parley/bus';
import { kvBuckets, normalizeAddress, type Network } from '@parley/contracts';
import { registry } from '@parley/observability';
import type { PresenceRecord } from './presence-rules.js';

export const PRESENCE_KV = Symbol('PRESENCE_KV');
export const PRESENCE_STORE_OPTIONS = Symbol('PRESENCE_STORE_OPTIONS');

export interface PresenceStoreOptions {
  /** Records kept in memory (0 = always read before writing). */
  cacheSize: number;
}

/** Writes retried after a revision conflict before the update is handed back for redelivery. */
const MAX_WRITE_ATTEMPTS = 20;
/** KV reads in flight for one batch query. */
const READ_CONCURRENCY = 128;

const conflicts = new Counter({
  name: 'parley_presence_revision_conflicts_total',
  help: 'Presence writes refused because another writer changed the identity first (then retried)',
  registers: [registry],
});

/** Opens (creating if missing) the presence bucket on the service's NATS connection. */
export async function openPresenceBucket(bus: JetStreamBus, replicas: number): Promise<KV> {
  return new Kvm(bus.nc).create(kvBuckets.presence(), {
    description: 'Parley: aggregated presence per identity (presence service)',
    history: 1,
    replicas,
    storage: StorageType.File,
    // A record holds a handful of resources; a runaway one is refused rather than stored.
    maxValueSize: 64 * 1024,
  });
}

/**
 * KV key of an identity: `<network>.<base64url(normalized address)>`. Addresses contain characters
 * KV keys may not (`@`, `:`, IRC's `[]{}|^`), and the network token lets an operator watch one network.
 */
export function presenceKey(network: Network, address: string): string {
  return `${network}.${Buffer.from(normalizeAddress(network, address)).toString('base64url')}`;
}

interface Versioned {
  /** Absent when the entry was deleted or purged (by an operator): the next write starts afresh. */
  record?: PresenceRecord;
  revision: number;
}

export interface Modification<T> {
  /** The record to store, or nothing to leave the entry as it is. */
  next?: PresenceRecord;
  result: T;
}

@Injectable()
export class PresenceStore {
  private readonly cache = new Map<string, Versioned>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    @Inject(PRESENCE_KV) private readonly kv: KV,
    @Inject(PRESENCE_STORE_OPTIONS) private readonly options: PresenceStoreOptions,
  ) {}

  /**
   * Reads the identity's record, lets `compute` decide the next one, and stores it only if nobody
   * wrote in between; on a conflict it re-reads and computes again. `compute` must be pure.
   */
  modify<T>(key: string, compute: (current: PresenceRecord | undefined) => Modification<T>): Promise<T> {
    return this.serialized(key, async () => {
      let current = this.cache.get(key) ?? (await this.read(key));
      for (let attempt = 1; ; attempt++) {
        const { next, result } = compute(current?.record);
        if (!next) {
          if (current) this.remember(key, current);
          return result;
        }
        try {
          const revision = await this.kv.put(key, JSON.stringify(next), {
            previousSeq: current?.revision ?? 0,
          });
          this.remember(key, { record: next, revision });
          return result;
        } catch (error) {
          if (!isRevisionConflict(error) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
          conflicts.inc();
          this.cache.delete(key);
          current = await this.read(key);
        }
      }
    });
  }

  /** The records of many identities, read from the bucket (never the cache: another replica may be ahead). */
  async readMany(keys: string[]): Promise<Array<PresenceRecord | undefined>> {
    const records = new Array<PresenceRecord | undefined>(keys.length);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const index = next++;
        records[index] = (await this.read(keys[index]!))?.record;
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
    return records;
  }

  /** Is the bucket reachable? (for /health/ready) */
  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const status = await this.kv.status();
      return { ok: true, detail: `${status.values} identities` };
    } catch (error) {
      return { ok: false, detail: `presence KV bucket: ${(error as Error).message}` };
    }
  }

  private async read(key: string): Promise<Versioned | undefined> {
    const entry = await this.kv.get(key);
    if (!entry) return undefined;
    if (entry.operation !== 'PUT') return { revision: entry.revision };
    return { record: entry.json<PresenceRecord>(), revision: entry.revision };
  }

  private remember(key: string, value: Versioned): void {
    if (this.options.cacheSize === 0) return;
    this.cache.delete(key); // re-inserting moves it to the end: the Map is kept in LRU order
    this.cache.set(key, value);
    if (this.cache.size > this.options.cacheSize) {
      this.cache.delete(this.cache.keys().next().value!);
    }
  }

  /** Runs `fn` after every earlier call for the same key has finished (no rejected links in the chain). */
  private async serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.queues.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }
}

export function isRevisionConflict(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** /health/ready: the presence bucket answers. */
@Injectable()
export class PresenceStoreHealthIndicator {
  constructor(private readonly store: PresenceStore) {}

  check(): Promise<{ ok: boolean; detail?: string }> {
    return this.store.check();
  }
}
