/** The environment variables every gateway shares (rate limits, retries), as a zod shape to spread into a service's config. */
import { z } from 'zod';
import type { RateLimits } from './rate-limiter.js';

const positive = z.coerce.number().positive();
const capOrNone = z.coerce.number().nonnegative();

/**
 * Defaults are per gateway service. `networkPerSecond: 0` = no network-wide cap: right for a
 * component talking to its own XMPP server on loopback (the per-recipient cap still protects
 * recipients); an IRC network's flood limits need one.
 */
export function gatewayConfigShape(defaults: { networkPerSecond: number; recipientPerSecond: number }) {
  return {
    /** Deliveries per second over the whole network connection(s) (0 = no cap), and the burst allowed. */
    PARLEY_GATEWAY_RATE_NETWORK: capOrNone.default(defaults.networkPerSecond),
    PARLEY_GATEWAY_BURST_NETWORK: positive.default(Math.max(defaults.networkPerSecond * 2, 1)),
    /** Deliveries per second to one recipient, and the burst allowed. */
    PARLEY_GATEWAY_RATE_RECIPIENT: positive.default(defaults.recipientPerSecond),
    PARLEY_GATEWAY_BURST_RECIPIENT: positive.default(defaults.recipientPerSecond * 3),
    /** Messages per second one sender may write to the bots, and the burst allowed. */
    PARLEY_GATEWAY_RATE_SENDER: positive.default(20),
    PARLEY_GATEWAY_BURST_SENDER: positive.default(200),
    /** Delays (ms, comma-separated) before each new attempt of a bounced delivery; then dead-lettered. */
    PARLEY_GATEWAY_BOUNCE_RETRY_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'must be delays in ms, comma-separated, e.g. 5000,30000')
      .optional(),
    /** Issue a conference's backlog of fan-outs at once (docs/gateway-adapter.md); `false` turns it off. */
    PARLEY_GATEWAY_BATCH_DELIVERIES: z
      .enum(['true', 'false'])
      .default('true')
      .transform((value) => value === 'true'),
    /** Test only: hold each served fan-out this long before its ack (0 = never). */
    PARLEY_TEST_GATEWAY_HOLD_BEFORE_ACK_MS: z.coerce.number().int().nonnegative().default(0),
    /** Test only: hold each recipient's send this long after the network took it (0 = never). */
    PARLEY_TEST_GATEWAY_HOLD_AFTER_SEND_MS: z.coerce.number().int().nonnegative().default(0),
  };
}

export function rateLimitsFrom(config: {
  PARLEY_GATEWAY_RATE_NETWORK: number;
  PARLEY_GATEWAY_BURST_NETWORK: number;
  PARLEY_GATEWAY_RATE_RECIPIENT: number;
  PARLEY_GATEWAY_BURST_RECIPIENT: number;
  PARLEY_GATEWAY_RATE_SENDER: number;
  PARLEY_GATEWAY_BURST_SENDER: number;
}): RateLimits {
  return {
    network:
      config.PARLEY_GATEWAY_RATE_NETWORK > 0
        ? { perSecond: config.PARLEY_GATEWAY_RATE_NETWORK, burst: config.PARLEY_GATEWAY_BURST_NETWORK }
        : null,
    recipient: {
      perSecond: config.PARLEY_GATEWAY_RATE_RECIPIENT,
      burst: config.PARLEY_GATEWAY_BURST_RECIPIENT,
    },
    sender: { perSecond: config.PARLEY_GATEWAY_RATE_SENDER, burst: config.PARLEY_GATEWAY_BURST_SENDER },
  };
}

/** The kit's delivery options from the shared variables (bounce retries, test hold, replicas). */
export function deliveryOptionsFrom(config: {
  PARLEY_GATEWAY_BATCH_DELIVERIES?: boolean;
  PARLEY_GATEWAY_BOUNCE_RETRY_MS?: string | undefined;
  PARLEY_TEST_GATEWAY_HOLD_BEFORE_ACK_MS: number;
  PARLEY_TEST_GATEWAY_HOLD_AFTER_SEND_MS?: number;
  PARLEY_STREAM_REPLICAS?: number;
}): {
  bounceRetryMs?: number[];
  holdBeforeAckMs: number;
  holdAfterSendMs: number;
  replicas: number;
  batchDeliveries: boolean;
} {
  return {
    batchDeliveries: config.PARLEY_GATEWAY_BATCH_DELIVERIES ?? true,
    ...(config.PARLEY_GATEWAY_BOUNCE_RETRY_MS
      ? { bounceRetryMs: config.PARLEY_GATEWAY_BOUNCE_RETRY_MS.split(',').map(Number) }
      : {}),
    holdBeforeAckMs: config.PARLEY_TEST_GATEWAY_HOLD_BEFORE_ACK_MS,
    holdAfterSendMs: config.PARLEY_TEST_GATEWAY_HOLD_AFTER_SEND_MS ?? 0,
    replicas: config.PARLEY_STREAM_REPLICAS ?? 1,
  };
}
