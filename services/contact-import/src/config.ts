/** contact-import configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@parley/runtime';

export const configSchema = z.object({
  ...baseConfigShape(8082),
  ...databaseConfigShape('contacts'),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('contact-import', configSchema, env);
}
