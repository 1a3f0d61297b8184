/** archive configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@parley/runtime';

const positiveInt = (fallback: number, max: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

export const configSchema = z.object({
  ...baseConfigShape(8084),
  ...databaseConfigShape('archive'),
  /** Most events stored per transaction. */
  PARLEY_ARCHIVE_BATCH_SIZE: positiveInt(200, 5_000),
  /**
   * How long an idle lane gathers events before storing them (ms; 0: each at once). Under light
   * load a few messages share one transaction and one flush of acks instead of one each; search,
   * history and export see a message this much later (the live feed does not read the archive).
   */
  PARLEY_ARCHIVE_LINGER_MS: z.coerce.number().int().min(0).max(5_000).default(200),
  /** How long JetStream waits for an ack before redelivering, e.g. after a crash (ms). */
  PARLEY_ARCHIVE_ACK_WAIT_MS: positiveInt(30_000, 600_000),
  /** How often the retention job deletes expired events (ms). */
  PARLEY_ARCHIVE_RETENTION_INTERVAL_MS: positiveInt(600_000, 86_400_000),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('archive', configSchema, env);
}
