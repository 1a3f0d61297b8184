/** Environment for starting Parley services inside a test, on this file's namespace and schemas. */
import { testEnv } from './env.js';
import { testSchema } from './namespace.js';

/**
 * Every service's settings pointing at the real servers (a service's config reads only its own):
 * NATS, PostgreSQL with this file's schema, the Prosody component and the ngircd server.
 */
export function serviceTestEnv(service: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const xmpp = testEnv.xmpp();
  const irc = testEnv.irc();
  return {
    PARLEY_XMPP_COMPONENT_HOST: xmpp.host,
    PARLEY_XMPP_COMPONENT_PORT: String(xmpp.componentPort),
    PARLEY_XMPP_COMPONENT_DOMAIN: xmpp.componentDomain,
    PARLEY_XMPP_COMPONENT_SECRET: xmpp.componentSecret,
    PARLEY_IRC_HOST: irc.host,
    PARLEY_IRC_PORT: String(irc.port),
    PARLEY_NATS_URL: testEnv.natsUrl(),
    PARLEY_DATABASE_URL: testEnv.databaseUrl(),
    PARLEY_DATABASE_SCHEMA: testSchema(service),
    PARLEY_HTTP_PORT: '0',
    PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX,
    ...extra,
  };
}
