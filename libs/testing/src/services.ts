/** Environment for starting Parley services inside a test, on this file's namespace and schemas. */
import { testEnv } from './env.js';
import { testSchema } from './namespace.js';

export function serviceTestEnv(service: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PARLEY_NATS_URL: testEnv.natsUrl(),
    PARLEY_DATABASE_URL: testEnv.databaseUrl(),
    PARLEY_DATABASE_SCHEMA: testSchema(service),
    PARLEY_HTTP_PORT: '0',
    PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX,
    ...extra,
  };
}
