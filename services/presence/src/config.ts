/** presence configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { baseConfigShape, loadConfig } from '@parley/runtime';

export const configSchema = z.object({
  ...baseConfigShape(8085),
  /**
   * Presence updates handled at once by one replica (pull loops on the shared durable consumer).
   * Updates of one identity are serialized inside a replica; across replicas the KV revision check
   * keeps them correct.
   */
  PARLEY_PRESENCE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Identity records this replica keeps in memory to skip a KV read before each write. */
  PARLEY_PRESENCE_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  /**
   * The record of an identity offline and untouched this long is deleted (it then answers as one
   * never reported). At least two days: PRESENCE_UPDATES keeps a day of reports that could still
   * arrive, and offline clients are remembered for one.
   */
  PARLEY_PRESENCE_RETENTION_HOURS: z.coerce.number().int().min(48).max(100_000).default(168),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('presence', configSchema, env);
}
