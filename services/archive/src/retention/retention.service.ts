/**
 * Retention: a scheduled job that deletes each conference's events older than its retention period
 * (conferences without one keep everything), in batches so no statement holds locks for long.
 * Several replicas may run it at once: deleting is idempotent, they only share the work.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { logger } from '@parley/observability';
import { ArchiveStore } from '../archive/archive-store.js';
import { ARCHIVE_CONFIG } from '../archive/archive.tokens.js';
import type { Config } from '../config.js';

@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: ArchiveStore,
    @Inject(ARCHIVE_CONFIG) private readonly config: Config,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running = this.deleteExpired().catch((error: unknown) =>
        logger().error({ err: error }, 'retention job failed; next run will retry'),
      );
    }, this.config.PARLEY_ARCHIVE_RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One run: for every conference with a retention period, delete its expired events batch by batch. */
  async deleteExpired(now = new Date()): Promise<number> {
    let deleted = 0;
    for (const policy of await this.store.retentionPolicies()) {
      const cutoff = new Date(now.getTime() - policy.retentionSeconds * 1_000);
      for (;;) {
        const batch = await this.store.deleteOlderThan(policy.conferenceId, cutoff);
        deleted += batch;
        if (batch === 0) break;
      }
    }
    if (deleted > 0) logger().info({ deleted }, 'retention: expired archive events deleted');
    return deleted;
  }
}
