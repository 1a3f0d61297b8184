/**
 * Prosody accepts one connection per component domain, so every test that connects a gateway-xmpp
 * holds one of the test Prosody's component domains (a PostgreSQL advisory lock per domain) while
 * it runs: `conf.localhost` and `test2…test4.conf.localhost` (deploy/prosody/prosody.test.cfg.lua.in).
 * The held domain becomes this test file's PARLEY_XMPP_COMPONENT_DOMAIN (testEnv, serviceTestEnv).
 */
import pg from 'pg';
import { testEnv } from './env.js';

/** The component domains of the test Prosody, the configured one first. */
export function testComponentDomains(base = testEnv.xmpp().componentDomain): string[] {
  return [base, `test2.${base}`, `test3.${base}`, `test4.${base}`];
}

/**
 * Waits for a free component domain and holds it; sets it as this file's component domain. Call
 * the returned function to release it.
 */
export async function holdXmppComponentDomain(): Promise<() => Promise<void>> {
  const base = process.env.PARLEY_TEST_BASE_COMPONENT_DOMAIN ?? testEnv.xmpp().componentDomain;
  process.env.PARLEY_TEST_BASE_COMPONENT_DOMAIN = base;
  const client = new pg.Client({ connectionString: testEnv.databaseUrl() });
  await client.connect();
  for (;;) {
    for (const domain of testComponentDomains(base)) {
      const { rows } = await client.query<{ held: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS held',
        [`parley-test-xmpp-component:${domain}`],
      );
      if (rows[0]!.held) {
        process.env.PARLEY_XMPP_COMPONENT_DOMAIN = domain;
        return async () => {
          await client.end().catch(() => undefined);
        };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
