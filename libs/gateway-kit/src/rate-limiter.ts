/**
 * Token buckets that keep a gateway under a network's flood limits: one for the whole network and
 * one per recipient. `take` waits until both have a token; deliveries are sequential, so waiting
 * here simply paces the stream.
 */
export interface RateLimit {
  /** Sustained rate, tokens per second. */
  perSecond: number;
  /** How many may go at once after a quiet spell. */
  burst: number;
}

export interface RateLimits {
  /** Over the whole network connection(s); null = no cap (e.g. a component on its own XMPP server). */
  network: RateLimit | null;
  recipient: RateLimit;
  /** What one sender may write to the bots (inbound). */
  sender: RateLimit;
}

class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.updatedAt = now;
  }

  /** Milliseconds until a token is available (0 = now). */
  waitMs(now: number): number {
    this.tokens = Math.min(
      this.limit.burst,
      this.tokens + ((now - this.updatedAt) / 1000) * this.limit.perSecond,
    );
    this.updatedAt = now;
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.limit.perSecond) * 1000);
  }

  take(): void {
    this.tokens -= 1;
  }

  isFull(now: number): boolean {
    return this.waitMs(now) === 0 && this.tokens >= this.limit.burst;
  }
}

export class RateLimiter {
  private readonly network: TokenBucket | null;
  private readonly recipients = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: Pick<RateLimits, 'network' | 'recipient'>,
    private readonly clock: () => number = Date.now,
  ) {
    this.network = limits.network ? new TokenBucket(limits.network, clock()) : null;
  }

  /** How long the next delivery to `recipient` must wait (ms); 0 means it may go now. */
  delayFor(recipient: string): number {
    const now = this.clock();
    return Math.max(this.network?.waitMs(now) ?? 0, this.bucket(recipient, now).waitMs(now));
  }

  /** Records one delivery to `recipient` (call when delayFor returned 0). */
  record(recipient: string): void {
    const now = this.clock();
    this.network?.take();
    this.bucket(recipient, now).take();
    // Full buckets carry no information: forget them so the map does not grow without bound.
    if (this.recipients.size > 10_000) {
      for (const [key, bucket] of this.recipients) if (bucket.isFull(now)) this.recipients.delete(key);
    }
  }

  /**
   * Waits until a delivery to `recipient` is within both limits, then records it. Resolves with
   * how long it was held back (0 when it went at once).
   */
  async take(recipient: string): Promise<number> {
    let waited = 0;
    for (let delay = this.delayFor(recipient); delay > 0; delay = this.delayFor(recipient)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      waited += delay;
    }
    this.record(recipient);
    return waited;
  }

  private bucket(recipient: string, now: number): TokenBucket {
    let bucket = this.recipients.get(recipient);
    if (!bucket) {
      bucket = new TokenBucket(this.limits.recipient, now);
      this.recipients.set(recipient, bucket);
    }
    return bucket;
  }
}
