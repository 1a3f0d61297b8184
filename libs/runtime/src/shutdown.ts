/**
 * SIGTERM (or SIGINT) at any moment of a service's life ends in a drain and exit 0 — Kubernetes
 * stops a pod whenever a rollout says so, also while it is still starting:
 * - before the app is built (connecting to NATS and PostgreSQL, migrating) nothing is in hand:
 *   exit 0 at once;
 * - while it starts (RPC handlers answering, consumers starting, HTTP not listening yet): the start
 *   is let finish (or fail) first — closing the app under a start still in progress left consumers
 *   started after their stop hooks had run, and the start failed on the drained connection (exit 1);
 * - once up: the app closes (consumers drain, connections close), then exit 0.
 * Replaces Nest's `enableShutdownHooks`, which only knows the last case.
 */
import type { INestApplication } from '@nestjs/common';
import { logger } from '@parley/observability';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export class ShutdownOnSignal {
  private app: INestApplication | undefined;
  private started: Promise<unknown> = Promise.resolve();
  private stopping = false;

  constructor(private readonly service: string) {
    for (const signal of SIGNALS) process.on(signal, () => void this.stop(signal));
  }

  /** True once a signal arrived: a start-up failing from then on is part of the stop, not a crash. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** The app is built and `starting` settles once it is up (or has failed to start). */
  starting(app: INestApplication, starting: Promise<unknown>): void {
    this.app = app;
    this.started = starting.catch(() => undefined);
  }

  private async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    try {
      if (!this.app) {
        logger().info({ signal }, `${this.service} stopped while starting; nothing was in hand`);
        process.exit(0);
      }
      logger().info({ signal }, `${this.service} stopping`);
      await this.started;
      await this.app.close();
      // process.exit, not re-raising the signal: the exit code says "stopped cleanly", and pino flushes on 'exit'.
      process.exit(0);
    } catch (error) {
      logger().error({ err: error, signal }, `${this.service} failed to stop cleanly`);
      process.exit(1);
    }
  }
}
