/** conference-core configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@parley/runtime';

export const configSchema = z.object({
  ...baseConfigShape(8083),
  ...databaseConfigShape('conference'),
  /** Appended to every bot's screen name so people can tell a Parley bot from a person. */
  PARLEY_BOT_SUFFIX: z.string().trim().min(1).max(40).default('(parley)'),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('conference-core', configSchema, env);
}
