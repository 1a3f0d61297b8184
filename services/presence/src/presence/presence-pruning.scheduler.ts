/**
 * Keeps the presence bucket from growing for ever: every hour, the records of identities offline
 * and untouched for the retention (PARLEY_PRESENCE_RETENTION_HOURS, default 7 days) are deleted
 * (rule: isPrunable in presence-rules.ts). Each delete names the revision it read, so an update
 * written meanwhile (by this or another replica) wins and the record stays; a replica's cached
 * copy of a deleted record only costs it one refused write and a re-read. The delete markers left
 * behind are purged on the next pass.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import { Counter } from 'prom-client';
import { logger, registry } from '@parley/observability';
import { isPrunable, type PresenceRecord } from './presence-rules.js';
import { PRESENCE_KV, isRevisionConflict } from './presence-store.js';

export const PRESENCE_PRUNING_OPTIONS = Symbol('PRESENCE_PRUNING_OPTIONS');

export interface PresencePruningOptions {
  /** Offline records untouched this long are deleted. */
  retentionMs: number;
}

const PRUNE_EVERY_MS = 3_600_000;

const pruned = new Counter({
  name: 'parley_presence_pruned_total',
  help: 'Presence records deleted because their identity was offline and untouched for the retention',
  registers: [registry],
});

@Injectable()
export class PresencePruner implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(PRESENCE_KV) private readonly kv: KV,
    @Inject(PRESENCE_PRUNING_OPTIONS) private readonly options: PresencePruningOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune().catch(() => 0), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass (as of `now`); returns how many records went. Failures are logged, not thrown. */
  prune(now = Date.now()): Promise<number> {
    this.running ??= this.pruneOnce(now)
      .catch((error: unknown) => {
        logger().warn({ err: error }, 'presence pruning failed; trying again later');
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pruneOnce(now: number): Promise<number> {
    // Markers of the previous pass's deletes (older than 30 min): nothing needs them any more.
    await (this.kv as KV & { purgeDeletes(olderMillis?: number): Promise<unknown> }).purgeDeletes();
    let count = 0;
    for await (const key of await this.kv.keys()) {
      const entry = await this.kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      if (!isPrunable(entry.json<PresenceRecord>(), entry.created.getTime(), now, this.options.retentionMs)) {
        continue;
      }
      try {
        await this.kv.delete(key, { previousSeq: entry.revision });
        count++;
      } catch (error) {
        if (!isRevisionConflict(error)) throw error; // written meanwhile: it stays
      }
    }
    pruned.inc(count);
    if (count > 0) logger().info({ pruned: count }, 'presence records of long-offline identities pruned');
    return count;
  }
}
