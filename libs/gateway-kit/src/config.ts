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
