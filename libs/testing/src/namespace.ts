/**
 * Test isolation: every test file gets its own bus prefix (so its own streams, consumers, KV
 * buckets and subjects) and its own PostgreSQL schemas, so runs and files never collide.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { busPrefix, streamName } from '@parley/contracts';
import { testEnv } from './env.js';

/** Gives this process (test file) a fresh bus prefix, e.g. `t1a2b3c4d`. */
export function useFreshNamespace(): string {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  process.env.PARLEY_BUS_PREFIX = prefix;
  return prefix;
}

/** The PostgreSQL schema a service uses in this test file, e.g. `t1a2b3c4d_accounts`. */
export function testSchema(service: string): string {
  return `${busPrefix()}_${service.replace(/-/g, '_')}`;
}

/** Deletes every stream, consumer and KV bucket of this file's prefix, and drops its schemas. */
export async function cleanupNamespace(prefix = busPrefix()): Promise<void> {
  const nc = await connect({ servers: testEnv.natsUrl() });
  try {
    const jsm = await jetstreamManager(nc);
    const streamPrefix = streamName('', prefix);
    const kvPrefix = `KV_${streamPrefix.toLowerCase()}`;
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      if (name.startsWith(streamPrefix) || name.startsWith(kvPrefix)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
  const client = new pg.Client({ connectionString: testEnv.databaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`${prefix}\\_%`],
    );
    for (const row of rows) await client.query(`DROP SCHEMA "${row.nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}
