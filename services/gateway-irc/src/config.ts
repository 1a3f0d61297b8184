/** gateway-irc configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { gatewayConfigShape } from '@parley/gateway-kit';
import { baseConfigShape, loadConfig } from '@parley/runtime';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const configSchema = z.object({
  ...baseConfigShape(8087),
  // Public networks throttle each connection to about one line per second after a short burst.
  ...gatewayConfigShape({ networkPerSecond: 20, recipientPerSecond: 2 }),
  /** The IRC server every bot connects to. */
  PARLEY_IRC_HOST: z.string().min(1).default('127.0.0.1'),
  PARLEY_IRC_PORT: z.coerce.number().int().min(1).max(65535).default(6667),
  PARLEY_IRC_TLS: flag.default(false),
  PARLEY_IRC_PASSWORD: z.string().min(1).optional(),
  /** If set, each bot identifies to NickServ with it after every (re)registration. */
  PARLEY_IRC_NICKSERV_PASSWORD: z.string().min(1).optional(),
  /**
   * Bot nick length when the server does not advertise NICKLEN (RFC 2812 says 9; most networks
   * allow 16–32; the local ngircd is configured for 30).
   */
  PARLEY_IRC_NICK_LENGTH: z.coerce.number().int().min(9).max(64).default(30),
  /**
   * `per-conference`: one bot connection per active conference. `pooled`: one bot nick serving
   * every conference, for networks that cap connections per IP (participants choose with /conf).
   */
  PARLEY_IRC_MODE: z.enum(['per-conference', 'pooled']).default('per-conference'),
  /** The pooled bot's nick. */
  PARLEY_IRC_POOL_NICK: z
    .string()
    .regex(/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/, 'must be an IRC nick')
    .default('parley'),
  /** ISON polling period for presence on servers without MONITOR. */
  PARLEY_IRC_PRESENCE_POLL_MS: z.coerce.number().int().min(1_000).default(15_000),
  /** After a bot reconnects, deliveries to absent nicks are retried this long (they may be reconnecting too). */
  PARLEY_IRC_REJOIN_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /**
   * Who an IRC participant is (ADR 0003), as conference-core is told: `nick` (no accounts) or
   * `account`. With `nick`, nothing written before a nick was seen leaving goes to the nick.
   */
  PARLEY_IRC_IDENTITY: z.enum(['nick', 'account']).default('nick'),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('gateway-irc', configSchema, env);
}
