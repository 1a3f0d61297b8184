/**
 * Fixed-window attempt counters, in this process's memory. Each gateway replica counts on its own
 * (see docs/adr/0001-auth-and-secrets.md for the multi-replica story); memory stays bounded
 * because expired windows are swept as the map grows.
 */
export interface LimitOutcome {
  allowed: boolean;
  /** Whole seconds until the window that refused the attempt ends (≥ 1). */
  retryAfterSeconds: number;
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweepAt = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts an attempt under each key; refused when any key is over its limit (the longest wait wins). */
  hit(keys: Array<{ key: string; limit: number }>): LimitOutcome {
    const now = this.now();
    this.sweep(now);
    let retryAfterMs = 0;
    for (const { key, limit } of keys) {
      let window = this.windows.get(key);
      if (!window || window.resetAt <= now) {
        window = { count: 0, resetAt: now + this.windowMs };
        this.windows.set(key, window);
      }
      window.count += 1;
      if (window.count > limit) retryAfterMs = Math.max(retryAfterMs, window.resetAt - now);
    }
    return { allowed: retryAfterMs === 0, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
  }

  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.windowMs;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
