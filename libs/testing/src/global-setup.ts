/**
 * Vitest global setup: find the real servers (env vars or local defaults); when PostgreSQL or NATS
 * is missing and a Docker engine answers, start them with testcontainers; otherwise fail at once,
 * naming what is missing and how to start it.
 */
import net from 'node:net';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { isDockerAvailable, startContainers } from './docker.js';
import { testEnv } from './env.js';

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: testEnv.databaseUrl(), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function jetStreamAnswers(): Promise<boolean> {
  try {
    const nc = await connect({ servers: testEnv.natsUrl(), timeout: 2_000 });
    const ok = nc.info?.jetstream === true;
    await nc.close();
    return ok;
  } catch {
    return false;
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  let stop = async () => undefined as void;
  if (!(await postgresAnswers()) || !(await jetStreamAnswers())) {
    if (await isDockerAvailable()) {
      const containers = await startContainers();
      process.env.PARLEY_TEST_DATABASE_URL = containers.databaseUrl;
      process.env.PARLEY_TEST_NATS_URL = containers.natsUrl;
      stop = containers.stop;
    }
  }
  const missing: string[] = [];
  if (!(await postgresAnswers())) missing.push(`PostgreSQL at ${testEnv.databaseUrl()}`);
  if (!(await jetStreamAnswers())) missing.push(`NATS with JetStream at ${testEnv.natsUrl()}`);
  const { host, c2sPort, componentPort } = testEnv.xmpp();
  if (!(await portOpen(host, c2sPort)) || !(await portOpen(host, componentPort))) {
    missing.push(`Prosody (c2s ${host}:${c2sPort}, component port ${componentPort})`);
  }
  const irc = testEnv.irc();
  if (!(await portOpen(irc.host, irc.port))) missing.push(`ngircd at ${irc.host}:${irc.port}`);
  if (missing.length > 0) {
    throw new Error(
      `the tests need real servers; not reachable: ${missing.join(', ')}. ` +
        'Start them with `bash deploy/local/services.sh start` (or set PARLEY_TEST_* URLs).',
    );
  }
  return stop;
}
