/**
 * Where the real servers are: env vars first, then local defaults (the ones deploy/local/services.sh
 * starts). Tests never mock these; a missing server fails the run loudly in global-setup.
 */
export const testEnv = {
  natsUrl: () => process.env.PARLEY_TEST_NATS_URL ?? process.env.PARLEY_NATS_URL ?? 'nats://127.0.0.1:4222',
  databaseUrl: () =>
    process.env.PARLEY_TEST_DATABASE_URL ??
    process.env.PARLEY_DATABASE_URL ??
    'postgres://parley:parley@127.0.0.1:5432/parley',
  xmpp: () => ({
    host: process.env.PARLEY_TEST_XMPP_HOST ?? '127.0.0.1',
    c2sPort: Number(process.env.PARLEY_TEST_XMPP_PORT ?? 5222),
    domain: process.env.PARLEY_TEST_XMPP_DOMAIN ?? 'localhost',
    componentPort: Number(process.env.PARLEY_XMPP_COMPONENT_PORT ?? 5347),
    componentDomain: process.env.PARLEY_XMPP_COMPONENT_DOMAIN ?? 'conf.localhost',
    componentSecret: process.env.PARLEY_XMPP_COMPONENT_SECRET ?? 'parley-component-secret',
    prosodyConfig: process.env.PARLEY_TEST_PROSODY_CONFIG ?? '/tmp/parley-services/prosody/prosody.cfg.lua',
  }),
  irc: () => ({
    host: process.env.PARLEY_TEST_IRC_HOST ?? '127.0.0.1',
    port: Number(process.env.PARLEY_IRC_PORT ?? 6667),
  }),
};
