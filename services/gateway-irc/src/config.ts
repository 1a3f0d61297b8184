/** gateway-irc configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { baseConfigShape, loadConfig } from '@parley/runtime';

export const configSchema = z.object({
  ...baseConfigShape(8087),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('gateway-irc', configSchema, env);
}
