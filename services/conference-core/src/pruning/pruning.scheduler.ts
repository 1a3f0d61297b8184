/**
 * Keeps conference-core's bookkeeping from growing for ever: every hour, queued deliveries no one
 * will take any more (conference ended, participant left or removed) and the presence view of
 * identities in no draft or active conference are deleted (ConferenceStore.prune). The inbox has
 * its own pruner (libs/persistence), the outbox its cleanup (outbox.relay.ts).
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { logger } from '@parley/observability';
import { ConferenceStore } from '../conference/conference.store.js';

const PRUNE_EVERY_MS = 3_600_000;
/** Twice PRESENCE_CHANGES' retention (a day): see ConferenceStore.prune. */
export const PRESENCE_VIEW_RETENTION_MS = 2 * 24 * 3_600_000;

@Injectable()
export class PruningScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly store: ConferenceStore) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass, as of `now`; failures are logged and the next pass tries again. */
  prune(now = Date.now()): Promise<void> {
    this.running ??= this.store
      .prune(new Date(now - PRESENCE_VIEW_RETENTION_MS))
      .then(({ queued, presence }) => {
        if (queued + presence > 0) {
          logger().info({ queued, presence }, 'pruned queued deliveries and presence views kept for nobody');
        }
      })
      .catch((error: unknown) => logger().warn({ err: error }, 'pruning failed; trying again later'))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
