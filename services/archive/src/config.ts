/** archive configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@parley/runtime';

export const configSchema = z.object({
  ...baseConfigShape(8084),
  ...databaseConfigShape('archive'),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('archive', configSchema, env);
}
