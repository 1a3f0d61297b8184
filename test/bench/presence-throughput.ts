/**
 * Benchmark: how many aggregate presence changes per second the presence service sustains.
 *
 * Publishes a backlog of client presence updates (every one of them changes its identity's
 * aggregate) while the service is stopped, starts the service's replicas as separate processes
 * (from `dist/`, as in production), and measures the time between the first and the last change
 * event stored in PRESENCE_CHANGES (JetStream's own timestamps), so start-up is not counted.
 * Prints a table and one JSON line. Run (after a build):
 *
 *   node test/bench/presence-throughput.ts [--identities 10000] [--changes 10] [--replicas 1]
 *     [--concurrency 16] [--cpu-prof DIR]
 *
 * Uses its own bus prefix and removes its streams and bucket afterwards. Self-contained (packages
 * only) so Node runs it directly with its built-in type stripping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { JetStreamBus, RpcClient } from '@parley/bus';
import {
  consumers,
  pingRpc,
  presenceRpc,
  streams,
  subjects,
  uuidv7,
  type PresenceShow,
  type PresenceUpdateV1,
} from '@parley/contracts';
import { cleanupNamespace, testEnv, waitFor } from '@parley/testing';

const { values: args } = parseArgs({
  options: {
    identities: { type: 'string', default: '10000' },
    changes: { type: 'string', default: '10' },
    replicas: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '16' },
    'cpu-prof': { type: 'string' },
  },
});
const identities = Number(args.identities);
const changesEach = Number(args.changes);
const replicaCount = Number(args.replicas);
const concurrency = Number(args.concurrency);

// One resource per identity cycling through states whose aggregates all differ from their
// neighbours, so every update is an aggregate change.
const CYCLE: PresenceShow[] = ['online', 'away', 'dnd', 'xa', 'offline'];

const prefix = `bench${randomBytes(3).toString('hex')}`;
process.env.PARLEY_BUS_PREFIX = prefix;
const natsUrl = testEnv.natsUrl();
const serviceMain = fileURLToPath(new URL('../../services/presence/dist/main.js', import.meta.url));

function startReplica(): ChildProcess {
  const profile = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : [];
  return spawn(process.execPath, [...profile, serviceMain], {
    env: {
      ...process.env,
      PARLEY_BUS_PREFIX: prefix,
      PARLEY_NATS_URL: natsUrl,
      PARLEY_HTTP_PORT: '0',
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_PRESENCE_CONCURRENCY: String(concurrency),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function stopReplica(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

// The bench's own connection skips nats.js async stack traces (about a third of a request's CPU).
const bus = await JetStreamBus.fromConnection(
  await connect({ servers: natsUrl, name: 'presence-bench', noAsyncTraces: true }),
);
const rpc = RpcClient.create(natsUrl);
const children: ChildProcess[] = [];
try {
  await bus.ensureStreams();
  await rpc.connect();

  // 1. The backlog, published round by round (change k of every identity, then k+1).
  const base = Date.now() - changesEach * 1000;
  const total = identities * changesEach;
  let next = 0;
  const publishStarted = performance.now();
  await Promise.all(
    Array.from({ length: 500 }, async () => {
      while (next < total) {
        const n = next++;
        const k = Math.floor(n / identities);
        const i = n % identities;
        const update: PresenceUpdateV1 = {
          id: uuidv7(),
          occurredAt: new Date(base + k * 1000).toISOString(),
          network: 'xmpp',
          address: `bench${i}@localhost`,
          resource: 'client',
          show: CYCLE[(i + k) % CYCLE.length]!,
          status: `change ${k}`,
        };
        await bus.publish(streams.presenceUpdates(), subjects.presenceUpdate('xmpp'), update);
      }
    }),
  );
  const publishSeconds = (performance.now() - publishStarted) / 1000;

  // 2. The service drains it.
  for (let r = 0; r < replicaCount; r++) children.push(startReplica());
  await waitFor(
    'the presence service to answer',
    () => rpc.call(pingRpc('presence'), { from: 'bench' }),
    30_000,
  );
  await waitFor(
    'the presence service to handle the backlog',
    async () => {
      const info = await bus.jsm.consumers.info(streams.presenceUpdates().name, consumers.presenceUpdates);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    30 * 60_000,
    100,
  );

  // 3. Throughput from the change events' own timestamps.
  const { state } = await bus.jsm.streams.info(streams.presenceChanges().name);
  const first = await bus.jsm.streams.getMessage(streams.presenceChanges().name, { seq: state.first_seq });
  const last = await bus.jsm.streams.getMessage(streams.presenceChanges().name, { seq: state.last_seq });
  if (!first || !last) throw new Error('the presence service published no change event');
  const seconds = (last.time.getTime() - first.time.getTime()) / 1000;

  // A spot check that the result is right, not only fast.
  const sample = Array.from({ length: Math.min(identities, 1000) }, (_, i) => ({
    network: 'xmpp' as const,
    address: `bench${i}@localhost`,
  }));
  const { presences } = await rpc.call(presenceRpc.query, { identities: sample });
  const aggregateOf: Record<PresenceShow, string> = {
    online: 'online',
    chat: 'online',
    away: 'away',
    dnd: 'busy',
    xa: 'xa',
    offline: 'offline',
  };
  const wrong = presences.filter(
    (p, i) => p.presence !== aggregateOf[CYCLE[(i + changesEach - 1) % CYCLE.length]!],
  ).length;

  const result = {
    bench: 'presence-throughput',
    identities,
    changesEach,
    replicas: replicaCount,
    concurrencyPerReplica: concurrency,
    updates: total,
    changesPublished: state.messages,
    seconds: Number(seconds.toFixed(2)),
    updatesPerSecond: Math.round(total / seconds),
    changesPerSecond: Math.round(state.messages / seconds),
    gatewayPublishesPerSecond: Math.round(total / publishSeconds),
    wrongInSample: wrong,
  };
  console.table([
    { measure: 'updates handled', value: result.updates },
    { measure: 'changes published', value: result.changesPublished },
    { measure: 'seconds (first to last change)', value: result.seconds },
    { measure: 'updates/s', value: result.updatesPerSecond },
    { measure: 'changes/s', value: result.changesPerSecond },
    { measure: 'gateway publishes/s (backlog)', value: result.gatewayPublishesPerSecond },
    { measure: `wrong aggregates in a ${sample.length}-identity sample`, value: wrong },
  ]);
  console.log(JSON.stringify(result));
  if (wrong > 0) process.exitCode = 1;
} finally {
  await Promise.all(children.map(stopReplica));
  await rpc.close();
  await bus.close();
  await cleanupNamespace(prefix);
}
