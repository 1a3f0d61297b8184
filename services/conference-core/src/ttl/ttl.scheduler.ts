/**
 * Fires the stored time-to-live deadlines. Every PARLEY_TTL_CHECK_MS each replica claims due
 * conferences one at a time with `FOR UPDATE SKIP LOCKED` and terminates each in the same
 * transaction (time-to-live.service.ts): a deadline fires once however many replicas run,
 * and a restart loses nothing because the deadline is a column, not a timer.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { logger } from '@parley/observability';
import { TimeToLiveService } from './time-to-live.service.js';

export const TTL_CHECK_MS = Symbol('TTL_CHECK_MS');

@Injectable()
export class TtlScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly ttl: TimeToLiveService,
    @Inject(TTL_CHECK_MS) private readonly checkMs: number,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.checkMs);
    this.timer.unref();
    this.tick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.stopped || this.running) return;
    this.running = this.ttl
      .expireDue(() => this.stopped)
      .then((n) => {
        if (n > 0) logger().info({ expired: n }, 'conferences ended by their time-to-live');
      })
      .catch((error: unknown) => logger().error({ err: error }, 'time-to-live pass failed; retrying'))
      .finally(() => {
        this.running = null;
      });
  }
}
