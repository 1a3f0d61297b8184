/** The environment variables every gateway shares (rate limits, retries), as a zod shape to spread into a service's config. */
import { z } from 'zod';
import type { RateLimits } from './rate-limiter.js';

const positive = z.coerce.number().positive();

/** Defaults are per gateway service; they keep well under common server flood limits for a local network. */
export function gatewayConfigShape(defaults: { networkPerSecond: number; recipientPerSecond: number }) {
  return {
    /** Deliveries per second over the whole network connection(s), and the burst allowed. */
    PARLEY_GATEWAY_RATE_NETWORK: positive.default(defaults.networkPerSecond),
    PARLEY_GATEWAY_BURST_NETWORK: positive.default(defaults.networkPerSecond * 2),
    /** Deliveries per second to one recipient, and the burst allowed. */
    PARLEY_GATEWAY_RATE_RECIPIENT: positive.default(defaults.recipientPerSecond),
    PARLEY_GATEWAY_BURST_RECIPIENT: positive.default(defaults.recipientPerSecond * 3),
  };
}

export function rateLimitsFrom(config: {
  PARLEY_GATEWAY_RATE_NETWORK: number;
  PARLEY_GATEWAY_BURST_NETWORK: number;
  PARLEY_GATEWAY_RATE_RECIPIENT: number;
  PARLEY_GATEWAY_BURST_RECIPIENT: number;
}): RateLimits {
  return {
    network: { perSecond: config.PARLEY_GATEWAY_RATE_NETWORK, burst: config.PARLEY_GATEWAY_BURST_NETWORK },
    recipient: {
      perSecond: config.PARLEY_GATEWAY_RATE_RECIPIENT,
      burst: config.PARLEY_GATEWAY_BURST_RECIPIENT,
    },
  };
}
