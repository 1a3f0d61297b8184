/**
 * Benchmark: archive ingest throughput (events/s) on this machine, batched vs one by one.
 * Publishes N CONF_EVENTS once, then lets the archive's own ingest (`consumeConferenceEvents`:
 * DurableConsumer in batch mode over ArchiveStore, from services/archive/dist) store the whole stream
 * once per batch size, each with its own durable consumer and its own schema; prints a table and a
 * JSON line. Uses a throwaway bus prefix and removes its streams and schemas afterwards.
 *
 *   npx turbo run build --filter=@parley/archive... && node test/bench/archive-ingest.ts [--events 5000]
 */
import { randomBytes } from 'node:crypto';
import { JetStreamBus } from '@parley/bus';
import { newEnvelope, streamName, streams, subjects, type ConferenceEventV1 } from '@parley/contracts';
import { createServiceDataSource, initializeAndMigrate } from '@parley/persistence';
import { ArchiveStore } from '../../services/archive/dist/archive/archive-store.js';
import { consumeConferenceEvents } from '../../services/archive/dist/ingest/conference-events.consumer.js';
import { migrations } from '../../services/archive/dist/migrations/index.js';

const prefix = `bench${randomBytes(3).toString('hex')}`;
process.env.PARLEY_BUS_PREFIX = prefix;
process.env.PARLEY_LOG_LEVEL ??= 'error';
const natsUrl = process.env.PARLEY_NATS_URL ?? 'nats://127.0.0.1:4222';
const databaseUrl = process.env.PARLEY_DATABASE_URL ?? 'postgres://parley:parley@127.0.0.1:5432/parley';
const argIndex = process.argv.indexOf('--events');
const total = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 5_000;
const CONFERENCES = 10;

const modes = [
  { mode: 'one-by-one', batchSize: 1 },
  { mode: 'batched', batchSize: 50 },
  { mode: 'batched', batchSize: 200 },
  { mode: 'batched', batchSize: 1000 },
];

function event(i: number): ConferenceEventV1 {
  const conference = i % CONFERENCES;
  return {
    ...newEnvelope(),
    conferenceId: `bench-${conference}`,
    seq: Math.floor(i / CONFERENCES) + 1,
    type: 'message-accepted',
    sender: { network: 'xmpp', address: `user${i % 7}@example.org`, displayName: `user ${i % 7}` },
    body: `message ${i}: a line of an ordinary conversation, about as long as most are in a chat`,
  };
}

async function publishAll(bus: JetStreamBus): Promise<number> {
  const stream = streams.confEvents();
  const started = performance.now();
  for (let from = 0; from < total; from += 500) {
    const batch: Array<Promise<unknown>> = [];
    for (let i = from; i < Math.min(total, from + 500); i++) {
      const e = event(i);
      batch.push(bus.publish(stream, subjects.confEvents(e.conferenceId), e));
    }
    await Promise.all(batch);
  }
  return (performance.now() - started) / 1000;
}

async function ingest(bus: JetStreamBus, mode: (typeof modes)[number], index: number) {
  const schema = `${prefix}_archive_${index}`;
  const db = await initializeAndMigrate(
    // The service's pool (10 connections): lanes store batches in parallel.
    createServiceDataSource({ url: databaseUrl, schema, entities: [], migrations }),
  );
  const countStored = async () =>
    ((await db.query(`SELECT count(*)::int AS n FROM archive_event`)) as Array<{ n: number }>)[0]!.n;
  const started = performance.now();
  const consumer = await consumeConferenceEvents(bus, new ArchiveStore(db), {
    batchSize: mode.batchSize,
    durable: `bench-${index}`,
  });
  while ((await countStored()) < total) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  const stored = await countStored();
  if (stored !== total)
    throw new Error(`${mode.mode} ${mode.batchSize}: stored ${stored} of ${total} events`);
  await db.query(`DROP SCHEMA "${schema}" CASCADE`);
  await db.destroy();
  return {
    ...mode,
    events: total,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(total / seconds),
  };
}

const bus = await JetStreamBus.connect({ natsUrl, name: 'archive-ingest-bench' });
try {
  await bus.ensureStreams();
  const publishSeconds = await publishAll(bus);
  const results = [];
  for (const [index, mode] of modes.entries()) results.push(await ingest(bus, mode, index));
  const baseline = results[0]!.eventsPerSecond;
  console.log(
    `archive ingest: ${total} events over ${CONFERENCES} conferences (published in ${publishSeconds.toFixed(2)} s)`,
  );
  console.table(
    results.map((r) => ({
      mode: r.mode,
      'batch size': r.batchSize,
      events: r.events,
      seconds: r.seconds,
      'events/s': r.eventsPerSecond,
      'vs one-by-one': `${(r.eventsPerSecond / baseline).toFixed(1)}x`,
    })),
  );
  console.log(JSON.stringify({ benchmark: 'archive-ingest', events: total, results }));
} finally {
  for (const name of [
    streamName('CONF_EVENTS'),
    streamName('DLQ'),
    ...['IM_INBOUND', 'IM_OUTBOUND', 'PRESENCE_UPDATES', 'PRESENCE_CHANGES'].map((b) => streamName(b)),
  ]) {
    await bus.jsm.streams.delete(name).catch(() => undefined);
  }
  await bus.close();
}
