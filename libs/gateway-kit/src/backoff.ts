/** Exponential backoff with jitter, and a reconnect loop built on it, for every network connection. */
import { logger } from '@parley/observability';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before attempt `attempt` (1-based): initial·2^(attempt−1), capped, with ±20 % jitter so
 * many bots reconnecting after one server restart do not all knock at the same instant.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Keeps one connection up: `connectOnce` is called until it resolves, waiting with backoff between
 * failures; call `lost()` when the connection drops to start over; `stop()` ends it for good.
 */
export class Reconnector {
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running = false;

  constructor(
    private readonly what: string,
    private readonly connectOnce: () => Promise<void>,
    private readonly options: BackoffOptions = { initialMs: 500, maxMs: 30_000 },
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Schedules a (re)connection after the backoff delay (now, for the first attempt). */
  lost(): void {
    if (this.stopped || this.running || this.timer) return;
    const delay = this.attempt === 0 ? 0 : backoffDelay(this.attempt, this.options);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tryOnce();
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tryOnce(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    this.attempt++;
    try {
      await this.connectOnce();
      this.attempt = 0;
      this.running = false;
    } catch (error) {
      this.running = false;
      logger().warn(
        { err: (error as Error).message, attempt: this.attempt },
        `${this.what} failed; retrying`,
      );
      this.lost();
    }
  }
}
