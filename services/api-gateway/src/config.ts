/** api-gateway configuration (env vars, validated at start-up). The JWT secret has no default. */
import { z } from 'zod';
import { baseConfigShape, loadConfig } from '@parley/runtime';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` puts the owner console, seen from this file (src/ in tests, dist/ when built). */
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../apps/console/dist', import.meta.url));

export const configSchema = z.object({
  ...baseConfigShape(8080),
  /** Verifies the owners' access tokens (the same secret accounts signs them with). */
  PARLEY_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /**
   * How many reverse proxies in front of the gateway append to X-Forwarded-For (0: use the
   * socket's address). The client IP for rate limits is the entry that many hops from the right.
   */
  PARLEY_TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Attempts at register / login / confirm per client IP, and per account, in one window. */
  PARLEY_AUTH_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(30),
  PARLEY_AUTH_RATE_LIMIT_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  PARLEY_AUTH_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(300),
  /** How long a request waits for the service behind it before answering 503. */
  PARLEY_RPC_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** A live feed with nothing to say sends a keep-alive comment this often, so proxies keep it open. */
  /** The built owner console (apps/console/dist), served at `/`. */
  PARLEY_CONSOLE_DIR: z.string().min(1).default(DEFAULT_CONSOLE_DIR),
  PARLEY_FEED_KEEPALIVE_MS: z.coerce.number().int().min(100).default(15_000),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('api-gateway', configSchema, env);
}

/** The validated configuration, injectable where a feature needs a setting. */
export const CONFIG = Symbol('API_GATEWAY_CONFIG');
