/**
 * Prosody accepts one connection per component domain, so every test that connects a gateway-xmpp
 * holds this lock (a PostgreSQL advisory lock) meanwhile: other files and concurrent runs wait.
 */
import pg from 'pg';
import { testEnv } from './env.js';

/** Waits for and holds the component domain; call the returned function to release it. */
export async function holdXmppComponentDomain(): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: testEnv.databaseUrl() });
  await client.connect();
  await client.query("SELECT pg_advisory_lock(hashtext('parley-test-xmpp-component'))");
  return async () => {
    await client.end().catch(() => undefined);
  };
}
