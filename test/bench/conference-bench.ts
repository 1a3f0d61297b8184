/**
 * `npm run bench`: Parley against a Prosody multi-user chat room, in one run, with the same real
 * XMPP client connections on the same local Prosody — every receiver timestamps every delivery.
 *
 * Parley runs as in production: every built service (`services/<name>/dist/main.js`) is its own
 * process, on a throwaway bus prefix and database schemas; an owner registers (confirmed through a
 * real SMTP listener), creates conferences, adds the participants and starts them over the REST API;
 * each client accepts the bot's subscription and sends `/join`. The baseline is a `muc.<domain>` room
 * on the same Prosody, joined by the same clients.
 *
 * Scenarios: fixed rate (5 senders, ~200 deliveries/s offered) at N = 10, 100, 500 participants;
 * a saturation search (highest rate with p99 ≤ 250 ms, nothing late, lost or doubled); many
 * conferences (e.g. 200 × 10 participants, 1 msg/s each); the bus floor (bare NATS core and
 * JetStream publish → consume). CPU seconds per 1,000 deliveries of every process on the path come
 * from /proc/<pid>/stat (utime + stime) before and after each step. Each Parley fixed-rate step is
 * also split into legs — client → IM_INBOUND → the decision's transaction → the relay's read →
 * IM_OUTBOUND → each client — from the times nats-server stored the message in each stream and the
 * outbox row's timestamps.
 *
 *   npm run bench                     # full run (N = 10, 100, 500; several minutes)
 *   npm run bench -- --quick          # N = 10 and 100, smaller steps; ≤ 5 minutes
 *   npm run bench -- --quick --profile  # also V8 CPU profiles of the services (top entries printed)
 *   npm run bench -- --quick --nodelay  # diagnostic: Nagle's algorithm off on every service socket
 *     (--nodelay-services gateway-xmpp,conference-core: only in those)
 *   node test/bench/conference-bench.ts --smoke --out DIR   # tiny run used by bench-smoke.test.ts
 *
 * Other options: --sizes 10,100  --fixed-seconds 10  --no-saturation  --no-many  --no-floor
 *   --many-rate 1 (messages a second in each conference of the many-conferences step).
 * Environment variables are passed through to the services (e.g. PARLEY_GATEWAY_RATE_NETWORK).
 * Build first (`npx turbo run build`). Only talks to 127.0.0.1. Self-contained (packages only) so
 * Node runs it directly with its built-in type stripping.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { client as xmppClient, xml, type Client } from '@xmpp/client';
import pg from 'pg';
import type { Element } from '@xmpp/xml';
import {
  cleanupNamespace,
  createXmppUser,
  holdXmppComponentDomain,
  testEnv,
  TestMailbox,
} from '@parley/testing';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

// ---- configuration ------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    nodelay: { type: 'boolean', default: false },
    'nodelay-services': { type: 'string' },
    sizes: { type: 'string' },
    'fixed-seconds': { type: 'string' },
    'no-saturation': { type: 'boolean', default: false },
    'no-many': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    'many-rate': { type: 'string' },
    'idle-seconds': { type: 'string' },
    out: { type: 'string', default: path.join(root, 'bench-results') },
  },
});

interface Plan {
  mode: 'full' | 'quick' | 'smoke';
  sizes: number[];
  senders: number;
  /** Deliveries per second offered in the fixed-rate steps (msg/s × (N − 1)). */
  fixedDeliveriesPerSecond: number;
  /** Smoke runs send a few messages whatever N is. */
  fixedMessagesPerSecond?: number;
  fixedSeconds: number;
  saturation: { seconds: number; maxSteps: number; maxDeliveriesPerSecond: number } | null;
  /** `rate`: messages a second in each conference. */
  many: { conferences: number; size: number; seconds: number; pool: number; rate: number } | null;
  floor: {
    latencyRate: number;
    latencySeconds: number;
    coreMessages: number;
    jetStreamMessages: number;
    /** How long the durable path floor runs, at the N = 10 fixed step's message rate. */
    pathSeconds: number;
  } | null;
  /** How long a step may wait for its last deliveries after the last send. */
  drainMs: number;
  loginConcurrency: number;
  /** How long each system is watched doing nothing, with everyone joined, before its fixed step. */
  idleSeconds: number;
}

function makePlan(): Plan {
  const base: Plan = args.smoke
    ? {
        mode: 'smoke',
        sizes: [3],
        senders: 2,
        fixedDeliveriesPerSecond: 10,
        fixedMessagesPerSecond: 5,
        fixedSeconds: 2,
        saturation: { seconds: 1, maxSteps: 2, maxDeliveriesPerSecond: 100 },
        many: { conferences: 2, size: 3, seconds: 2, pool: 3, rate: 1 },
        floor: {
          latencyRate: 200,
          latencySeconds: 1,
          coreMessages: 2_000,
          jetStreamMessages: 500,
          pathSeconds: 1,
        },
        drainMs: 30_000,
        loginConcurrency: 3,
        idleSeconds: 1,
      }
    : args.quick
      ? {
          mode: 'quick',
          sizes: [10, 100],
          senders: 5,
          fixedDeliveriesPerSecond: 200,
          fixedSeconds: 8,
          saturation: { seconds: 4, maxSteps: 7, maxDeliveriesPerSecond: 15_000 },
          many: { conferences: 20, size: 10, seconds: 10, pool: 100, rate: 1 },
          floor: {
            latencyRate: 1_000,
            latencySeconds: 2,
            coreMessages: 50_000,
            jetStreamMessages: 5_000,
            pathSeconds: 15,
          },
          drainMs: 10_000,
          loginConcurrency: 8,
          idleSeconds: 5,
        }
      : {
          mode: 'full',
          sizes: [10, 100, 500],
          senders: 5,
          fixedDeliveriesPerSecond: 200,
          fixedSeconds: 15,
          saturation: { seconds: 10, maxSteps: 9, maxDeliveriesPerSecond: 30_000 },
          // 1 msg/s in each of 200 conferences (1,800 deliveries/s) is more than this 2-core machine
          // carries for either system: the MUC's Prosody alone needs 1.4 cores for it
          // (docs/performance.md), and both fell seconds behind. A quarter of it compares them.
          many: { conferences: 200, size: 10, seconds: 20, pool: 100, rate: 0.25 },
          floor: {
            latencyRate: 1_000,
            latencySeconds: 3,
            coreMessages: 200_000,
            jetStreamMessages: 20_000,
            pathSeconds: 30,
          },
          drainMs: 15_000,
          loginConcurrency: 8,
          idleSeconds: 10,
        };
  if (args.sizes) base.sizes = args.sizes.split(',').map(Number);
  if (args['fixed-seconds']) base.fixedSeconds = Number(args['fixed-seconds']);
  if (args['no-saturation']) base.saturation = null;
  if (args['no-many']) base.many = null;
  if (args['no-floor']) base.floor = null;
  if (args['many-rate'] && base.many) base.many.rate = Number(args['many-rate']);
  if (args['idle-seconds']) base.idleSeconds = Number(args['idle-seconds']);
  return base;
}

const plan = makePlan();
/** p99 at or under this, and nothing late, lost or doubled: a saturation step "held". */
const HOLD_P99_MS = 250;
/** A delivery later than this after its send counts as late. */
const LATE_MS = 1_000;
const xmppEnv = testEnv.xmpp();
const mucDomain = `muc.${xmppEnv.domain}`;
/**
 * The bot domain: the test component domain this run holds (libs/testing's holdXmppComponentDomain
 * may hand out one of several and puts it in PARLEY_XMPP_COMPONENT_DOMAIN); set once it is held.
 */
let componentDomain = xmppEnv.componentDomain;
const runTag = randomBytes(3).toString('hex');
const prefix = `bench${runTag}`;
process.env.PARLEY_BUS_PREFIX = prefix;
const startedAt = new Date();
const runWall = performance.now();

function say(message: string): void {
  const seconds = ((performance.now() - runWall) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[bench ${seconds}s] ${message}\n`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs `work` over `items` with at most `limit` at once. */
async function inBatches<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

// ---- statistics ---------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function latencySummary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? null),
  };
}

// ---- CPU from /proc -----------------------------------------------------------------------------

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14, 15)
  } catch {
    return undefined; // gone
  }
}

/** The pids in /proc for which `test` (reading /proc/<pid>/…) is true; a process gone meanwhile is skipped. */
function pidsWhere(test: (pid: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (test(entry)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function processesNamed(comm: string): number[] {
  return pidsWhere((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm);
}

/** A process and its children (PostgreSQL: the postmaster and its backends and workers). */
function withChildren(pid: number): number[] {
  return [
    pid,
    ...pidsWhere((child) => {
      const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    }),
  ];
}

function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The processes whose CPU is measured: label → pids (PostgreSQL: the postmaster and its children). */
type CpuSnapshot = Map<string, Map<number, number>>;
const watched: { label: string; pids: () => number[] }[] = [];

function snapshotCpu(): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const { label, pids } of watched) {
    const live = pids().flatMap((pid) => {
      const seconds = cpuSecondsOf(pid);
      return seconds === undefined ? [] : [[pid, seconds] as const];
    });
    snapshot.set(label, new Map(live));
  }
  const self = process.cpuUsage();
  snapshot.set('bench clients', new Map([[process.pid, (self.user + self.system) / 1e6]]));
  return snapshot;
}

/**
 * CPU seconds used per label between two snapshots (a process new in `after` counts from zero).
 * A watched single process (Prosody, nats-server, a service) that is gone or replaced is reported
 * in `vanished`: its figure for the step is incomplete.
 */
function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): { used: Record<string, number>; vanished: string[] } {
  const used: Record<string, number> = {};
  const vanished: string[] = [];
  for (const [label, pids] of after) {
    let sum = 0;
    for (const [pid, seconds] of pids) sum += seconds - (before.get(label)?.get(pid) ?? 0);
    used[label] = Math.round(sum * 1000) / 1000;
    const gone = [...(before.get(label)?.keys() ?? [])].filter((pid) => !pids.has(pid));
    if (gone.length > 0 && label !== 'postgres') vanished.push(label);
  }
  return { used, vanished };
}

/** CPU seconds of a system's path: Prosody alone for the MUC; for Parley every process but the benchmark's. */
function pathCpuSeconds(system: 'parley' | 'muc', used: Record<string, number>): number {
  const onPath =
    system === 'muc' ? ['prosody'] : Object.keys(used).filter((label) => label !== 'bench clients');
  return onPath.reduce((sum, label) => sum + (used[label] ?? 0), 0);
}

// ---- /metrics -----------------------------------------------------------------------------------

/** Counters worth seeing per step: time spent in the gateway's rate limiter, redeliveries, dead letters. */
const METRICS_OF_INTEREST =
  /^parley_(gateway_rate_limited_seconds_total|bus_redelivered_total|bus_dead_lettered_total)$/;

async function scrapeMetrics(urls: Record<string, string>): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  await Promise.all(
    Object.entries(urls).map(async ([service, url]) => {
      try {
        const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
        for (const line of text.split('\n')) {
          const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
          if (match && METRICS_OF_INTEREST.test(match[1]!)) {
            const key = `${service}:${match[1]}`;
            totals[key] = (totals[key] ?? 0) + Number(match[2]);
          }
        }
      } catch {
        // a service without /metrics answers contributes nothing
      }
    }),
  );
  return totals;
}

// ---- Parley as processes ------------------------------------------------------------------------

interface ServiceProcess {
  name: string;
  child: ChildProcess;
  url: string;
  stderrTail: () => string;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function serviceNames(): string[] {
  return readdirSync(path.join(root, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

async function startParley(
  mailbox: TestMailbox,
  logDir: string,
  profileDir: string,
): Promise<ServiceProcess[]> {
  const names = serviceNames();
  const missing = names.filter((name) => !existsSync(path.join(root, 'services', name, 'dist', 'main.js')));
  if (missing.length > 0)
    throw new Error(`not built: ${missing.join(', ')} — run \`npx turbo run build\` first`);
  const secrets = {
    PARLEY_JWT_SECRET: randomBytes(48).toString('base64url'),
    PARLEY_SECRETS_KEY: randomBytes(32).toString('base64'),
    PARLEY_SECRETS_KEY_ID: 'bench-1',
  };
  const irc = testEnv.irc();
  const nodeFlags = [...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const noDelay = (name: string) =>
    args['nodelay-services'] ? args['nodelay-services'].split(',').includes(name) : args.nodelay;
  mkdirSync(logDir, { recursive: true });
  const spawnService = (name: string, port: number): ServiceProcess => {
    const env = {
      ...process.env,
      ...secrets,
      PARLEY_BUS_PREFIX: prefix,
      PARLEY_NATS_URL: testEnv.natsUrl(),
      PARLEY_DATABASE_URL: testEnv.databaseUrl(),
      PARLEY_DATABASE_SCHEMA: `${prefix}_${name.replace(/-/g, '_')}`,
      PARLEY_HTTP_HOST: '127.0.0.1',
      PARLEY_HTTP_PORT: String(port),
      PARLEY_LOG_LEVEL: process.env.PARLEY_LOG_LEVEL ?? 'warn',
      PARLEY_SMTP_URL: mailbox.url,
      PARLEY_MAIL_FROM: 'Parley bench <no-reply@parley.test>',
      PARLEY_XMPP_COMPONENT_HOST: xmppEnv.host,
      PARLEY_XMPP_COMPONENT_PORT: String(xmppEnv.componentPort),
      PARLEY_XMPP_COMPONENT_DOMAIN: componentDomain,
      PARLEY_XMPP_COMPONENT_SECRET: xmppEnv.componentSecret,
      PARLEY_IRC_HOST: irc.host,
      PARLEY_IRC_PORT: String(irc.port),
    };
    const log = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [
        ...nodeFlags,
        ...(noDelay(name) ? ['--import', path.join(root, 'test/bench/no-delay.mjs')] : []),
        path.join('services', name, 'dist', 'main.js'),
      ],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let tail = '';
    child.stdout!.pipe(log);
    child.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-4_000);
    });
    return { name, child, url: `http://127.0.0.1:${port}`, stderrTail: () => tail };
  };
  const services: ServiceProcess[] = [];
  for (const name of names) services.push(spawnService(name, await freePort()));
  try {
    await Promise.all(
      services.map((service, index) => {
        let respawns = 0;
        return waitUntil(
          `${service.name} to be ready`,
          async () => {
            if (service.child.exitCode !== null) {
              // A gateway that just released the component domain can linger on Prosody for a moment.
              if (/already connected/i.test(service.stderrTail()) && respawns++ < 20) {
                await sleep(3_000);
                services[index] = Object.assign(
                  service,
                  spawnService(service.name, Number(new URL(service.url).port)),
                );
                return false;
              }
              throw new Error(`${service.name} exited (${service.child.exitCode}): ${service.stderrTail()}`);
            }
            try {
              return (await fetch(`${service.url}/health/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
            } catch {
              return false;
            }
          },
          240_000,
          250,
        );
      }),
    );
  } catch (error) {
    // None of them may outlive a failed start.
    await stopParley(services);
    throw error;
  }
  return services;
}

async function stopParley(services: ServiceProcess[]): Promise<void> {
  await Promise.all(
    services.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** The owner's REST session. */
class Rest {
  token = '';
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async call<T = Record<string, unknown>>(
    method: string,
    route: string,
    body?: unknown,
    expect = [200, 201],
  ) {
    const response = await fetch(`${this.baseUrl}/api/v1${route}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!expect.includes(response.status))
      throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Register → confirmation mail → confirm → login. */
  async registerOwner(mailbox: TestMailbox): Promise<void> {
    const email = `bench-${runTag}@example.org`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    await this.call('POST', '/auth/register', { email, password, displayName: 'Bench owner' });
    await this.call('POST', '/auth/confirm', {
      token: TestMailbox.tokenIn(await mailbox.mailTo(email, 0, 30_000)),
    });
    const login = await this.call<{ accessToken: string }>('POST', '/auth/login', { email, password });
    this.token = login.accessToken;
  }

  /** Creates, fills and starts a conference; returns its bot's JID. */
  async startConference(name: string, addresses: string[]): Promise<string> {
    const created = await this.call<{ id: string }>('POST', '/conferences', {
      name,
      subject: 'benchmark',
      ttlSeconds: 86_400,
    });
    for (let at = 0; at < addresses.length; at += 500) {
      const added = await this.call<{ errors: unknown[] }>(
        'POST',
        `/conferences/${created.id}/participants`,
        {
          participants: addresses.slice(at, at + 500).map((address) => ({ network: 'xmpp', address })),
        },
      );
      if (added.errors.length > 0) throw new Error(`adding participants: ${JSON.stringify(added.errors)}`);
    }
    await this.call('POST', `/conferences/${created.id}/start`);
    return `${created.id}@${componentDomain}`.toLowerCase();
  }
}

// ---- XMPP clients -------------------------------------------------------------------------------

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const BENCH_BODY = /bench (\S+) (\d+) ([\d.]+)/;

interface BenchClient {
  index: number;
  username: string;
  jid: string;
  xmpp: Client;
}

const bareJid = (jid: string | undefined) => (jid ?? '').split('/')[0]!.toLowerCase();

/** Every stanza of interest, from every client, goes through here. */
const inbound = {
  lastActivityAt: performance.now(),
  /** bot JID → clients that have joined its conference. */
  joinedParley: new Map<string, Set<number>>(),
  /** room JID → clients that are in it (own presence seen). */
  inRoom: new Map<string, Set<number>>(),
  /** Bots whose invitation this client answered with /join. */
  joinSent: new Set<string>(),
  /** room JID → the owner's configuration of the new room (Prosody lets nobody else in before it). */
  roomConfigured: new Map<string, Promise<unknown>>(),
  roomErrors: new Map<string, string>(),
  disconnects: 0,
  errors: [] as string[],
};

function onStanza(client: BenchClient, stanza: Element): void {
  const now = performance.now();
  inbound.lastActivityAt = now;
  const from = bareJid(stanza.attrs.from);
  if (stanza.is('message')) {
    const body = stanza.getChildText('body');
    if (body === null) return;
    const bench = BENCH_BODY.exec(body);
    if (bench) {
      // History replayed by a MUC room on join carries a <delay/>: not a live delivery.
      if (stanza.getChild('delay', 'urn:xmpp:delay')) return;
      trackers.get(bench[1]!)?.received(client.index, Number(bench[2]), now);
      return;
    }
    if (from.endsWith(`@${componentDomain}`)) {
      if (/You are invited/.test(body) && !inbound.joinSent.has(`${client.index} ${from}`)) {
        inbound.joinSent.add(`${client.index} ${from}`);
        send(client, xml('message', { to: from, type: 'chat' }, xml('body', {}, '/join')));
      } else if (/^You joined/.test(body)) {
        let joined = inbound.joinedParley.get(from);
        if (!joined) inbound.joinedParley.set(from, (joined = new Set()));
        joined.add(client.index);
      }
    }
    if (stanza.attrs.type === 'error')
      inbound.errors.push(`${client.username}: ${stanza.toString().slice(0, 300)}`);
    return;
  }
  if (stanza.is('presence')) {
    if (stanza.attrs.type === 'subscribe' && from.endsWith(`@${componentDomain}`)) {
      send(client, xml('presence', { to: from, type: 'subscribed' }));
      return;
    }
    const mucUser = stanza.getChild('x', NS_MUC_USER);
    if (mucUser && from.endsWith(`@${mucDomain}`)) {
      const codes = mucUser.getChildren('status').map((s) => s.attrs.code);
      if (codes.includes('201')) {
        // Prosody locks a new room until its owner configures it: accept the defaults (instant room).
        const configured = client.xmpp.iqCaller
          .request(
            xml(
              'iq',
              { type: 'set', to: from },
              xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })),
            ),
          )
          .catch((error: Error) => inbound.roomErrors.set(from, `configuring it: ${error.message}`));
        inbound.roomConfigured.set(from, configured);
      }
      if (codes.includes('110') && stanza.attrs.type !== 'unavailable') {
        let present = inbound.inRoom.get(from);
        if (!present) inbound.inRoom.set(from, (present = new Set()));
        present.add(client.index);
      }
    }
    if (stanza.attrs.type === 'error') {
      inbound.errors.push(`${client.username}: ${stanza.toString().slice(0, 300)}`);
      if (from.endsWith(`@${mucDomain}`)) inbound.roomErrors.set(from, stanza.toString().slice(0, 300));
    }
  }
}

let sendErrors = 0;
/** Set once the run ends: clients going offline from then on are expected. */
let stopping = false;
function send(client: BenchClient, stanza: Element): void {
  client.xmpp.send(stanza).catch(() => (sendErrors += 1));
}

async function connectClient(index: number, user: { username: string; password: string; jid: string }) {
  const xmpp = xmppClient({
    service: `xmpp://${xmppEnv.host}:${xmppEnv.c2sPort}`,
    domain: xmppEnv.domain,
    username: user.username,
    password: user.password,
    resource: 'bench',
  });
  xmpp.reconnect.stop();
  const client: BenchClient = { index, username: user.username, jid: user.jid, xmpp };
  xmpp.on('error', (error: Error) => inbound.errors.push(`${user.username}: ${error.message}`));
  xmpp.on('offline', () => {
    if (!stopping) inbound.disconnects += 1;
  });
  xmpp.on('stanza', (stanza: Element) => onStanza(client, stanza));
  await xmpp.start();
  await xmpp.send(xml('presence'));
  return client;
}

/** Waits until no client has received anything for `quietMs` (bounded): the previous step's tail is in. */
async function settle(quietMs = 1_000, maxMs = 60_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (performance.now() - inbound.lastActivityAt < quietMs && performance.now() < deadline)
    await sleep(100);
}

// ---- delivery tracking --------------------------------------------------------------------------

interface SentMessage {
  sentAt: number;
  sender: number;
  recipients: Set<number>;
  seen: Set<number>;
  /** When each delivery arrived (performance.now()), for the hop breakdown. */
  arrivals: number[];
}

class StepTracker {
  readonly messages = new Map<number, SentMessage>();
  readonly latencies: number[] = [];
  expected = 0;
  duplicates = 0;
  unexpected = 0;
  late = 0;
  /** Deliveries that arrived after the step had been closed (counted as lost in its result). */
  afterClose = 0;
  closed = false;
  readonly system: 'parley' | 'muc';

  constructor(system: 'parley' | 'muc') {
    this.system = system;
  }

  sent(seq: number, sender: number, members: Set<number>, sentAt: number): void {
    const recipients = new Set(members);
    recipients.delete(sender);
    this.expected += recipients.size;
    this.messages.set(seq, { sentAt, sender, recipients, seen: new Set(), arrivals: [] });
  }

  received(receiver: number, seq: number, at: number): void {
    const message = this.messages.get(seq);
    if (!message) return void (this.unexpected += 1);
    // A MUC room reflects every message to its sender; Parley must not echo.
    if (receiver === message.sender && this.system === 'muc') return;
    if (!message.recipients.has(receiver)) return void (this.unexpected += 1);
    if (message.seen.has(receiver)) return void (this.duplicates += 1);
    message.seen.add(receiver);
    if (this.closed) return void (this.afterClose += 1);
    const latency = at - message.sentAt;
    this.latencies.push(latency);
    message.arrivals.push(at);
    if (latency > LATE_MS) this.late += 1;
  }

  get complete(): boolean {
    return this.latencies.length >= this.expected;
  }
}

const trackers = new Map<string, StepTracker>();
let stepCounter = 0;

interface StepResult {
  tag: string;
  system: 'parley' | 'muc';
  scenario: string;
  participants: number;
  conferences: number;
  messagesPerSecond: number;
  offeredDeliveriesPerSecond: number;
  seconds: number;
  sent: number;
  achievedMessagesPerSecond: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  unexpected: number;
  late: number;
  /** Of the lost: deliveries that did arrive, after the drain window (filled in at the end of the run). */
  arrivedAfterDrain: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  cpuSeconds: Record<string, number>;
  /** CPU seconds per 1,000 deliveries of every process on the system's path, and their sum. */
  cpuPer1000: Record<string, number>;
  pathCpuPer1000: number | null;
  metrics: Record<string, number>;
  held: boolean;
  window: { startUs: number; endUs: number };
  /** Parley's fixed steps: where a message's time went, from JetStream's own store timestamps. */
  hops?: HopBreakdown;
}

interface Traffic {
  system: 'parley' | 'muc';
  scenario: string;
  participants: number;
  conferences: number;
  messagesPerSecond: number;
  seconds: number;
  /** The k-th message: who sends it, to which address, and who is in that conference. */
  message(k: number): { sender: BenchClient; to: string; members: Set<number> };
}

let parleyServices: ServiceProcess[] = [];
const allSteps: StepResult[] = [];
/** The XMPP accounts this run registered (removed at the end, also on Ctrl-C). */
const users: { username: string; password: string; jid: string }[] = [];

function deleteUsers(): Promise<unknown> {
  return inBatches(users, 4, (user) =>
    run('prosodyctl', ['--config', xmppEnv.prosodyConfig, 'deluser', user.jid]).catch(() => undefined),
  );
}
const hrtimeUs = () => Number(process.hrtime.bigint() / 1000n);

async function measure(traffic: Traffic): Promise<StepResult> {
  await settle();
  const tag = `${runTag}s${++stepCounter}`;
  const tracker = new StepTracker(traffic.system);
  trackers.set(tag, tracker);
  const total = Math.max(1, Math.round(traffic.messagesPerSecond * traffic.seconds));
  const metricUrls = Object.fromEntries(parleyServices.map((s) => [s.name, s.url]));
  const metricsBefore = traffic.system === 'parley' ? await scrapeMetrics(metricUrls) : {};
  const cpuBefore = snapshotCpu();
  const startUs = hrtimeUs();
  const start = performance.now();
  const startWallMs = Date.now();
  let sent = 0;
  // Paced by the clock: each tick sends every message that is due, so a slow tick does not lower the rate.
  while (sent < total) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - start) / 1000) * traffic.messagesPerSecond) + 1,
    );
    for (; sent < due; sent++) {
      const { sender, to, members } = traffic.message(sent);
      const sentAt = performance.now();
      tracker.sent(sent, sender.index, members, sentAt);
      const type = traffic.system === 'muc' ? 'groupchat' : 'chat';
      send(
        sender,
        xml('message', { to, type }, xml('body', {}, `bench ${tag} ${sent} ${sentAt.toFixed(3)}`)),
      );
    }
    const nextDueAt = start + ((sent + 0) / traffic.messagesPerSecond) * 1000;
    await sleep(Math.max(1, Math.min(50, nextDueAt - performance.now())));
  }
  const sendSeconds = (performance.now() - start) / 1000;
  const drainDeadline = performance.now() + plan.drainMs;
  while (!tracker.complete && performance.now() < drainDeadline) await sleep(20);
  tracker.closed = true;
  const endUs = hrtimeUs();
  const { used: cpu, vanished } = cpuBetween(cpuBefore, snapshotCpu());
  // Numbers from a step during which a server or service died, or a client lost its connection, mean nothing.
  const exited = parleyServices.filter(
    (service) => service.child.exitCode !== null || service.child.signalCode !== null,
  );
  if (exited.length > 0 || vanished.length > 0 || inbound.disconnects > 0) {
    throw new Error(
      `step ${tag} is void: ${[
        ...exited.map((service) => `${service.name} exited (${service.stderrTail().slice(-500)})`),
        ...vanished.map((label) => `${label} is gone or was restarted`),
        ...(inbound.disconnects > 0 ? [`${inbound.disconnects} XMPP clients were disconnected`] : []),
      ].join('; ')}`,
    );
  }
  const metricsAfter = traffic.system === 'parley' ? await scrapeMetrics(metricUrls) : {};
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(metricsAfter)) {
    const delta = value - (metricsBefore[key] ?? 0);
    if (delta !== 0) metrics[key] = Math.round(delta * 1000) / 1000;
  }

  const delivered = tracker.latencies.length;
  const per1000 = (seconds: number) =>
    delivered === 0 ? 0 : Math.round((seconds / delivered) * 1000 * 1000) / 1000;
  const cpuPer1000 = Object.fromEntries(
    Object.entries(cpu).map(([label, seconds]) => [label, per1000(seconds)]),
  );
  const pathCpu = pathCpuSeconds(traffic.system, cpu);
  const latencyMs = latencySummary(tracker.latencies);
  const lost = tracker.expected - delivered;
  const achieved = sent / Math.max(sendSeconds, traffic.seconds);
  const result: StepResult = {
    tag,
    system: traffic.system,
    scenario: traffic.scenario,
    participants: traffic.participants,
    conferences: traffic.conferences,
    messagesPerSecond: round2(traffic.messagesPerSecond),
    offeredDeliveriesPerSecond: Math.round((tracker.expected / total) * traffic.messagesPerSecond),
    seconds: traffic.seconds,
    sent,
    achievedMessagesPerSecond: round2(achieved),
    expected: tracker.expected,
    delivered,
    lost,
    duplicates: tracker.duplicates,
    unexpected: tracker.unexpected,
    late: tracker.late,
    arrivedAfterDrain: 0,
    latencyMs,
    cpuSeconds: cpu,
    cpuPer1000,
    pathCpuPer1000: delivered === 0 ? null : per1000(pathCpu),
    metrics,
    held:
      latencyMs.p99 !== null &&
      latencyMs.p99 <= HOLD_P99_MS &&
      lost === 0 &&
      tracker.late === 0 &&
      tracker.duplicates === 0 &&
      achieved >= 0.9 * traffic.messagesPerSecond,
    window: { startUs, endUs },
  };
  if (traffic.system === 'parley' && traffic.scenario === 'fixed')
    result.hops = await hopBreakdown(tag, tracker, startWallMs - start);
  allSteps.push(result);
  say(
    `${traffic.system.padEnd(6)} ${traffic.scenario.padEnd(10)} N=${traffic.participants} ` +
      `${result.messagesPerSecond} msg/s (${result.offeredDeliveriesPerSecond} deliveries/s): ` +
      `p50 ${fmtMs(latencyMs.p50)} p99 ${fmtMs(latencyMs.p99)} delivered ${delivered}/${tracker.expected} ` +
      `dup ${tracker.duplicates} late ${tracker.late} cpu/1k ${result.pathCpuPer1000 ?? '-'} s ` +
      `(bench clients used ${cpu['bench clients']} s of CPU)` +
      (Object.keys(metrics).length > 0 ? ` ${JSON.stringify(metrics)}` : ''),
  );
  return result;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

type Percentiles = { p50: number | null; p99: number | null };

/** Median and p99 of each leg of a message's way, in ms; `messages`: how many were found at every point. */
interface HopBreakdown {
  messages: number;
  /** Sender's client → Prosody → gateway-xmpp → stored in IM_INBOUND. */
  toInbound: Percentiles;
  /** IM_INBOUND → conference-core's decision and commit → the relay → stored in IM_OUTBOUND. */
  inboundToOutbound: Percentiles;
  /** Its parts, from the outbox row's timestamps: IM_INBOUND → the decision's transaction begins. */
  inboundToDecision: Percentiles;
  /** The decision's transaction begins → its outbox rows are written (claimed, loaded, decided). */
  decisionToDecided: Percentiles;
  /** Its rows written → stored in IM_OUTBOUND (the commit, then the hand-over's publish). */
  decidedToOutbound: Percentiles;
  /** IM_OUTBOUND → gateway-xmpp → Prosody → each recipient's client (one sample per delivery). */
  outboundToClient: Percentiles;
}

/**
 * Splits a step's latency at the two streams a message crosses, using the time nats-server stored
 * it (the same machine's clock as the clients'). `wallOffset` turns the bench's performance.now()
 * into wall-clock milliseconds.
 */
async function hopBreakdown(tag: string, tracker: StepTracker, wallOffset: number): Promise<HopBreakdown> {
  const since = Math.min(...[...tracker.messages.values()].map((m) => m.sentAt)) + wallOffset - 1_000;
  const [inbound, outbound, rows] = await Promise.all([
    storedAt(`${prefix.toUpperCase()}_IM_INBOUND`, tag, since),
    storedAt(`${prefix.toUpperCase()}_IM_OUTBOUND`, tag, since),
    outboxTimes(tag, since),
  ]);
  const toInbound: number[] = [];
  const inboundToOutbound: number[] = [];
  const outboundToClient: number[] = [];
  const inboundToDecision: number[] = [];
  const decisionToDecided: number[] = [];
  const decidedToOutbound: number[] = [];
  for (const [seq, message] of tracker.messages) {
    const inAt = inbound.get(seq);
    const outAt = outbound.get(seq);
    const row = rows.get(seq);
    if (inAt === undefined || outAt === undefined || row === undefined) continue;
    toInbound.push(inAt - (message.sentAt + wallOffset));
    inboundToOutbound.push(outAt - inAt);
    inboundToDecision.push(row.createdAt - inAt);
    decisionToDecided.push(row.attemptedAt - row.createdAt);
    decidedToOutbound.push(outAt - row.attemptedAt);
    for (const at of message.arrivals) outboundToClient.push(at + wallOffset - outAt);
  }
  const summary = (samples: number[]) => {
    const { p50, p99 } = latencySummary(samples);
    return { p50, p99 };
  };
  return {
    messages: toInbound.length,
    toInbound: summary(toInbound),
    inboundToOutbound: summary(inboundToOutbound),
    inboundToDecision: summary(inboundToDecision),
    decisionToDecided: summary(decisionToDecided),
    decidedToOutbound: summary(decidedToOutbound),
    outboundToClient: summary(outboundToClient),
  };
}

/**
 * conference-core's outbox rows of step `tag` (IM_OUTBOUND only): `created_at` is now() of the
 * decision's transaction (its start), `attempted_at` when conference-core wrote the rows for its
 * hand-over (handOverInsert). Wall-clock ms.
 */
async function outboxTimes(tag: string, sinceMs: number) {
  const client = new pg.Client({ connectionString: testEnv.databaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ seq: string; created: number; attempted: number }>(
      `SELECT substring(payload::text FROM $1) AS seq,
              extract(epoch FROM created_at) * 1000 AS created,
              extract(epoch FROM attempted_at) * 1000 AS attempted
         FROM "${prefix}_conference_core".outbox
        WHERE stream = 'im-outbound' AND created_at >= to_timestamp($2 / 1000.0) AND attempted_at IS NOT NULL`,
      [`bench ${tag} (\\d+) `, sinceMs],
    );
    const times = new Map<number, { createdAt: number; attemptedAt: number }>();
    for (const row of rows)
      if (row.seq !== null && !times.has(Number(row.seq)))
        times.set(Number(row.seq), { createdAt: Number(row.created), attemptedAt: Number(row.attempted) });
    return times;
  } finally {
    await client.end();
  }
}

/** When nats-server stored each bench message of step `tag` in `stream` (wall-clock ms; first copy). */
async function storedAt(stream: string, tag: string, sinceMs: number): Promise<Map<number, number>> {
  const nc = await natsConnect({ servers: testEnv.natsUrl(), noAsyncTraces: true });
  const found = new Map<number, number>();
  const pattern = new RegExp(`bench ${tag} (\\d+) `);
  try {
    const consumer = await jetstream(nc).consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(sinceMs).toISOString(),
    });
    for (;;) {
      let fetched = 0;
      let pending = 0;
      for await (const msg of await consumer.fetch({ max_messages: 1_000, expires: 2_000 })) {
        fetched += 1;
        pending = msg.info.pending;
        const hit = pattern.exec(msg.string());
        if (hit && !found.has(Number(hit[1]))) found.set(Number(hit[1]), Number(msg.timestampNanos) / 1e6);
      }
      if (fetched === 0 || pending === 0) break;
    }
  } finally {
    await closeQuietly(nc);
  }
  return found;
}

// ---- scenarios ----------------------------------------------------------------------------------

interface SizeResult {
  participants: number;
  muc: { joinSeconds: number; idle: IdleResult; fixed: StepResult; saturation: SaturationResult | null };
  parley: {
    joinSeconds: number;
    settledSeconds: number;
    idle: IdleResult;
    fixed: StepResult;
    saturation: SaturationResult | null;
  };
}

/** CPU a system spends doing nothing: every participant joined, no message sent. */
interface IdleResult {
  seconds: number;
  /** CPU milliseconds per second of each process. */
  cpuMsPerSecond: Record<string, number>;
  /** The same for the path (Parley: every process but the benchmark's; MUC: Prosody). */
  pathCpuMsPerSecond: number;
}

/**
 * Waits until none of Parley's durable consumers has anything pending or in hand: the clients saw
 * the last join notice, but the archive may still be storing the joins' events, and that is not rest.
 */
async function consumersIdle(maxMs = 60_000): Promise<void> {
  const nc = await natsConnect({ servers: testEnv.natsUrl() });
  try {
    const jsm = await jetstreamManager(nc);
    const ours = `${prefix.toUpperCase()}_`;
    const deadline = performance.now() + maxMs;
    while (performance.now() < deadline) {
      let busy = 0;
      for await (const stream of jsm.streams.list()) {
        if (!stream.config.name.startsWith(ours)) continue;
        for await (const consumer of jsm.consumers.list(stream.config.name)) {
          if (consumer.config.durable_name) busy += consumer.num_pending + consumer.num_ack_pending;
        }
      }
      if (busy === 0) return;
      await sleep(250);
    }
    say("Parley's consumers still had messages pending after 60 s; measuring at rest anyway");
  } finally {
    await closeQuietly(nc);
  }
}

/**
 * Watches the processes for `plan.idleSeconds` while nothing is sent: what a system costs at rest
 * (timers, polls, heartbeats). At a light fixed rate it is part of every delivery's CPU figure.
 */
async function measureIdle(system: 'parley' | 'muc'): Promise<IdleResult> {
  if (system === 'parley') await consumersIdle();
  await settle();
  const before = snapshotCpu();
  const start = performance.now();
  await sleep(plan.idleSeconds * 1000);
  const seconds = (performance.now() - start) / 1000;
  const { used } = cpuBetween(before, snapshotCpu());
  const perSecond = (cpu: number) => Math.round((cpu / seconds) * 1000 * 10) / 10;
  const cpuMsPerSecond = Object.fromEntries(
    Object.entries(used).map(([label, cpu]) => [label, perSecond(cpu)]),
  );
  const pathCpuMsPerSecond = perSecond(pathCpuSeconds(system, used));
  say(`${system.padEnd(6)} idle       ${round2(seconds)} s: path ${pathCpuMsPerSecond} ms of CPU a second`);
  return { seconds: round2(seconds), cpuMsPerSecond, pathCpuMsPerSecond };
}

interface SaturationResult {
  heldMessagesPerSecond: number;
  heldDeliveriesPerSecond: number;
  firstFailed: { messagesPerSecond: number; p99: number | null; lost: number; late: number } | null;
  steps: StepResult[];
}

async function joinRoom(room: string, members: BenchClient[]): Promise<number> {
  const start = performance.now();
  const join = (client: BenchClient) =>
    send(
      client,
      xml(
        'presence',
        { to: `${room}/${client.username}` },
        xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' })),
      ),
    );
  const inRoom = (count: number) => () => {
    const error = inbound.roomErrors.get(room);
    if (error) throw new Error(`joining ${room}: ${error}`);
    return (inbound.inRoom.get(room)?.size ?? 0) >= count;
  };
  // The first one in creates (and configures) the room; the others join it.
  join(members[0]!);
  await waitUntil(`${members[0]!.username} to create ${room}`, inRoom(1), 30_000);
  await inbound.roomConfigured.get(room);
  for (const client of members.slice(1)) join(client);
  await waitUntil(
    `${members.length} clients in ${room}`,
    inRoom(members.length),
    60_000 + members.length * 500,
  );
  return (performance.now() - start) / 1000;
}

/** Doubles the fixed-rate step's rate until a step fails; the fixed-rate step is the first rung. */
async function saturate(
  traffic: (messagesPerSecond: number) => Traffic,
  fixed: StepResult,
  deliveriesPerMessage: number,
) {
  const limits = plan.saturation!;
  const steps: StepResult[] = [];
  const startRate = fixed.messagesPerSecond * 2;
  let held = fixed.held ? fixed.messagesPerSecond : 0;
  let firstFailed: SaturationResult['firstFailed'] = fixed.held
    ? null
    : {
        messagesPerSecond: fixed.messagesPerSecond,
        p99: fixed.latencyMs.p99,
        lost: fixed.lost,
        late: fixed.late,
      };
  for (let i = 0, rate = startRate; firstFailed === null && i < limits.maxSteps; i++, rate *= 2) {
    if (rate * deliveriesPerMessage > limits.maxDeliveriesPerSecond) break;
    const step = await measure({ ...traffic(rate), seconds: limits.seconds });
    steps.push(step);
    if (!step.held) {
      firstFailed = {
        messagesPerSecond: round2(rate),
        p99: step.latencyMs.p99,
        lost: step.lost,
        late: step.late,
      };
      break;
    }
    held = rate;
  }
  // A failed step leaves a backlog behind: let it drain before anything else is measured.
  await settle(2_000, 120_000);
  return {
    heldMessagesPerSecond: round2(held),
    heldDeliveriesPerSecond: Math.round(held * deliveriesPerMessage),
    firstFailed,
    steps,
  };
}

/** Messages a second each fixed-rate step of N participants sends (a message is N − 1 deliveries). */
function fixedMessageRate(n: number): number {
  return plan.fixedMessagesPerSecond ?? plan.fixedDeliveriesPerSecond / (n - 1);
}

async function runSize(n: number, clients: BenchClient[], rest: Rest): Promise<SizeResult> {
  const members = clients.slice(0, n);
  const memberSet = new Set(members.map((c) => c.index));
  const senders = members.slice(0, Math.min(plan.senders, n));
  // The saturation search sends from every participant (up to 100): a per-sender rate limit is
  // an anti-flood rule, not the fan-out capacity being searched for.
  const saturationSenders = members.slice(0, Math.min(100, n));
  const rate = fixedMessageRate(n);
  const fixedSeconds = Math.max(plan.fixedSeconds, n >= 500 ? 20 : 0);
  const trafficTo =
    (system: 'parley' | 'muc', to: string) =>
    (messagesPerSecond: number, scenario = 'saturation') => ({
      system,
      scenario,
      participants: n,
      conferences: 1,
      messagesPerSecond,
      seconds: fixedSeconds,
      message: (k: number) => {
        const from = scenario === 'fixed' ? senders : saturationSenders;
        return { sender: from[k % from.length]!, to, members: memberSet };
      },
    });

  // MUC baseline.
  const room = `bench-${runTag}-n${n}@${mucDomain}`;
  const mucJoin = await joinRoom(room, members);
  say(`muc    N=${n}: all in the room after ${mucJoin.toFixed(1)} s`);
  const mucIdle = await measureIdle('muc');
  const mucTraffic = trafficTo('muc', room);
  const mucFixed = await measure(mucTraffic(rate, 'fixed'));
  const mucSaturation = plan.saturation ? await saturate(mucTraffic, mucFixed, n - 1) : null;

  // Parley.
  const joinStart = performance.now();
  const bot = await rest.startConference(
    `Bench ${runTag} n${n}`,
    members.map((c) => c.jid),
  );
  await waitUntil(
    `${n} participants to join ${bot}`,
    () => (inbound.joinedParley.get(bot)?.size ?? 0) >= n,
    900_000,
    100,
  );
  const parleyJoin = (performance.now() - joinStart) / 1000;
  await settle(1_500, 900_000);
  const settled = (performance.now() - joinStart) / 1000;
  say(
    `parley N=${n}: all joined after ${parleyJoin.toFixed(1)} s, join notices delivered after ${settled.toFixed(1)} s`,
  );
  const parleyIdle = await measureIdle('parley');
  const parleyTraffic = trafficTo('parley', bot);
  const parleyFixed = await measure(parleyTraffic(rate, 'fixed'));
  if (args.profile && !profileWindow) profileWindow = parleyFixed.window;
  const parleySaturation = plan.saturation ? await saturate(parleyTraffic, parleyFixed, n - 1) : null;

  // Leave the room so the next size's room is the only busy one.
  for (const client of members)
    send(client, xml('presence', { to: `${room}/${client.username}`, type: 'unavailable' }));
  return {
    participants: n,
    muc: { joinSeconds: round2(mucJoin), idle: mucIdle, fixed: mucFixed, saturation: mucSaturation },
    parley: {
      joinSeconds: round2(parleyJoin),
      settledSeconds: round2(settled),
      idle: parleyIdle,
      fixed: parleyFixed,
      saturation: parleySaturation,
    },
  };
}

interface ManyResult {
  conferences: number;
  size: number;
  /** Messages a second in each conference. */
  rate: number;
  muc: StepResult;
  parley: StepResult;
  parleySetupSeconds: number;
  mucSetupSeconds: number;
}

async function runMany(clients: BenchClient[], rest: Rest): Promise<ManyResult> {
  const { conferences, size, seconds, pool, rate } = plan.many!;
  const people = clients.slice(0, Math.min(pool, clients.length));
  const groups = Array.from({ length: conferences }, (_, c) =>
    Array.from({ length: Math.min(size, people.length) }, (_, j) => people[(c * size + j) % people.length]!),
  );
  const sets = groups.map((group) => new Set(group.map((c) => c.index)));
  const traffic = (system: 'parley' | 'muc', addresses: string[]): Traffic => ({
    system,
    scenario: 'many',
    participants: groups[0]!.length,
    conferences,
    messagesPerSecond: conferences * rate,
    seconds,
    message: (k) => {
      const c = k % conferences;
      const group = groups[c]!;
      return {
        sender: group[Math.floor(k / conferences) % group.length]!,
        to: addresses[c]!,
        members: sets[c]!,
      };
    },
  });

  let start = performance.now();
  const rooms = groups.map((_, c) => `bench-${runTag}-m${c}@${mucDomain}`);
  await inBatches(groups, 8, (group, c) => joinRoom(rooms[c]!, group));
  const mucSetupSeconds = (performance.now() - start) / 1000;
  say(`muc    many: ${conferences} rooms × ${groups[0]!.length} ready after ${mucSetupSeconds.toFixed(1)} s`);
  const muc = await measure(traffic('muc', rooms));
  for (const [c, group] of groups.entries()) {
    for (const client of group)
      send(client, xml('presence', { to: `${rooms[c]}/${client.username}`, type: 'unavailable' }));
  }

  start = performance.now();
  const bots = await inBatches(groups, 4, (group, c) =>
    rest.startConference(
      `Bench ${runTag} m${c}`,
      group.map((client) => client.jid),
    ),
  );
  await waitUntil(
    `${conferences} conferences to be joined`,
    () => bots.every((bot, c) => (inbound.joinedParley.get(bot)?.size ?? 0) >= groups[c]!.length),
    900_000,
    100,
  );
  await settle(1_500, 900_000);
  const parleySetupSeconds = (performance.now() - start) / 1000;
  say(
    `parley many: ${conferences} conferences × ${groups[0]!.length} joined after ${parleySetupSeconds.toFixed(1)} s`,
  );
  const parley = await measure(traffic('parley', bots));
  return {
    conferences,
    size: groups[0]!.length,
    rate,
    muc,
    parley,
    parleySetupSeconds: round2(parleySetupSeconds),
    mucSetupSeconds: round2(mucSetupSeconds),
  };
}

// ---- the bus floor ------------------------------------------------------------------------------

interface FloorResult {
  core: {
    latencyMs: ReturnType<typeof latencySummary>;
    ratePerSecond: number;
    throughputPerSecond: number;
    cpuPer1000: Record<string, number>;
  };
  jetstream: {
    latencyMs: ReturnType<typeof latencySummary>;
    ratePerSecond: number;
    throughputPerSecond: number;
    cpuPer1000: Record<string, number>;
  };
  /** The least a durable relay does per message, at N = 10's message rate (see durablePathFloor). */
  durablePath: {
    ratePerSecond: number;
    messages: number;
    latencyMs: ReturnType<typeof latencySummary>;
    /** CPU ms per message: nats-server, postgres, and the bench process playing every part. */
    cpuMsPerMessage: Record<string, number>;
  };
}

async function runFloor(): Promise<FloorResult> {
  const floor = plan.floor!;
  const opts = { servers: testEnv.natsUrl(), noAsyncTraces: true };
  const pub = await natsConnect(opts);
  const sub = await natsConnect(opts);
  const subject = `${prefix}.benchfloor`;
  const cpuPer1000 = (before: CpuSnapshot, count: number) => {
    const { used } = cpuBetween(before, snapshotCpu());
    return {
      'nats-server': Math.round(((used['nats-server'] ?? 0) / count) * 1000 * 1000) / 1000,
      'bench clients': Math.round(((used['bench clients'] ?? 0) / count) * 1000 * 1000) / 1000,
    };
  };
  try {
    // Core NATS: latency at a fixed rate, then throughput as fast as one publisher goes.
    let received = 0;
    let latencies: number[] = [];
    const subscription = sub.subscribe(`${subject}.core`, {
      callback: (_error, msg) => {
        received += 1;
        const sentAt = Number(msg.string());
        if (sentAt > 0) latencies.push(performance.now() - sentAt);
      },
    });
    await sub.flush();
    const paced = async (total: number, ratePerSecond: number, publish: () => Promise<void> | void) => {
      const start = performance.now();
      let sent = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * ratePerSecond) + 1);
        for (; sent < due; sent++) await publish();
        await sleep(1);
      }
    };
    const latencyCount = floor.latencyRate * floor.latencySeconds;
    await paced(latencyCount, floor.latencyRate, () =>
      pub.publish(`${subject}.core`, performance.now().toFixed(3)),
    );
    await waitUntil('core NATS latency messages', () => received >= latencyCount, 30_000, 10);
    const coreLatency = latencySummary(latencies);
    received = 0;
    let cpuBefore = snapshotCpu();
    let start = performance.now();
    for (let i = 0; i < floor.coreMessages; i++) {
      pub.publish(`${subject}.core`, '0');
      if (i % 1_000 === 999) await pub.flush();
    }
    await waitUntil('core NATS throughput messages', () => received >= floor.coreMessages, 120_000, 5);
    const coreThroughput = Math.round(floor.coreMessages / ((performance.now() - start) / 1000));
    const coreCpu = cpuPer1000(cpuBefore, floor.coreMessages);
    subscription.unsubscribe();

    // JetStream: a file-backed stream and a durable pull consumer with explicit acks.
    const stream = `${prefix.toUpperCase()}_BENCH_FLOOR`;
    const jsm = await jetstreamManager(pub);
    await jsm.streams.add({ name: stream, subjects: [`${subject}.js`], storage: StorageType.File });
    await jsm.consumers.add(stream, { durable_name: 'floor', ack_policy: AckPolicy.Explicit });
    const js = jetstream(pub);
    const consumer = await jetstream(sub).consumers.get(stream, 'floor');
    const messages = await consumer.consume({ max_messages: 512 });
    received = 0;
    latencies = [];
    const consuming = (async () => {
      for await (const msg of messages) {
        const sentAt = Number(msg.string());
        if (sentAt > 0) latencies.push(performance.now() - sentAt);
        msg.ack();
        received += 1;
      }
    })();
    const jsLatencyCount = Math.round(latencyCount / 2);
    await paced(jsLatencyCount, floor.latencyRate / 2, async () => {
      await js.publish(`${subject}.js`, performance.now().toFixed(3));
    });
    await waitUntil('JetStream latency messages', () => received >= jsLatencyCount, 30_000, 10);
    const jsLatency = latencySummary(latencies);
    received = 0;
    cpuBefore = snapshotCpu();
    start = performance.now();
    // Up to 256 publishes awaiting their acks at once.
    await inBatches(
      Array.from({ length: floor.jetStreamMessages }, (_, i) => i),
      256,
      async () => void (await js.publish(`${subject}.js`, '0')),
    );
    await waitUntil('JetStream throughput messages', () => received >= floor.jetStreamMessages, 120_000, 5);
    const jsThroughput = Math.round(floor.jetStreamMessages / ((performance.now() - start) / 1000));
    const jsCpu = cpuPer1000(cpuBefore, floor.jetStreamMessages);
    messages.stop();
    await consuming;
    await jsm.streams.delete(stream);
    const durablePath = await durablePathFloor(pub, sub);
    const result: FloorResult = {
      core: {
        latencyMs: coreLatency,
        ratePerSecond: floor.latencyRate,
        throughputPerSecond: coreThroughput,
        cpuPer1000: coreCpu,
      },
      jetstream: {
        latencyMs: jsLatency,
        ratePerSecond: floor.latencyRate / 2,
        throughputPerSecond: jsThroughput,
        cpuPer1000: jsCpu,
      },
      durablePath,
    };
    say(
      `bus floor: core p50 ${fmtMs(coreLatency.p50)} p99 ${fmtMs(coreLatency.p99)}, ${coreThroughput} msg/s; ` +
        `JetStream p50 ${fmtMs(jsLatency.p50)} p99 ${fmtMs(jsLatency.p99)}, ${jsThroughput} msg/s`,
    );
    return result;
  } finally {
    await closeQuietly(pub);
    await closeQuietly(sub);
  }
}

/**
 * The least a relay that loses nothing does per message, with nothing else of Parley's: the
 * message is stored in a JetStream stream before its sender is answered (IM_INBOUND), consumed,
 * decided on in one PostgreSQL commit (one INSERT in its own transaction), stored in a second
 * stream (IM_OUTBOUND), and consumed and acked there (the gateway), at the message rate of the
 * N = 10 fixed step. What nats-server and PostgreSQL spend per message here is a floor under
 * Parley's own CPU per message at N = 10, whatever its services do (they add the archive's stream,
 * the delivery progress, more statements and their own processes).
 */
async function durablePathFloor(
  pub: NatsConnection,
  sub: NatsConnection,
): Promise<FloorResult['durablePath']> {
  const floor = plan.floor!;
  const ratePerSecond = round2(fixedMessageRate(10));
  const total = Math.max(1, Math.round(ratePerSecond * floor.pathSeconds));
  const jsm = await jetstreamManager(pub);
  const names = { in: `${prefix.toUpperCase()}_FLOOR_IN`, out: `${prefix.toUpperCase()}_FLOOR_OUT` };
  const subjectIn = `${prefix}.floorpath.in`;
  const subjectOut = `${prefix}.floorpath.out`;
  await jsm.streams.add({ name: names.in, subjects: [subjectIn], storage: StorageType.File });
  await jsm.streams.add({ name: names.out, subjects: [subjectOut], storage: StorageType.File });
  for (const name of Object.values(names)) {
    await jsm.consumers.add(name, { durable_name: 'floor', ack_policy: AckPolicy.Explicit });
  }
  const table = `"${prefix}_floor_path"`;
  const db = new pg.Client({ connectionString: testEnv.databaseUrl() });
  await db.connect();
  // Logged, like Parley's decisions: each commit is flushed to the WAL.
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query(`CREATE TABLE ${table} (id text PRIMARY KEY, body text)`);
  const js = jetstream(pub);
  const decided = await (
    await jetstream(sub).consumers.get(names.in, 'floor')
  ).consume({ max_messages: 256 });
  const delivered = await (
    await jetstream(sub).consumers.get(names.out, 'floor')
  ).consume({ max_messages: 256 });
  let done = 0;
  const latencies: number[] = [];
  const deciding = (async () => {
    for await (const msg of decided) {
      await db.query(`INSERT INTO ${table} (id, body) VALUES ($1, $2)`, [String(msg.seq), msg.string()]);
      await js.publish(subjectOut, msg.data, { msgID: `out-${msg.seq}` });
      msg.ack();
    }
  })();
  const delivering = (async () => {
    for await (const msg of delivered) {
      latencies.push(performance.now() - Number(msg.string()));
      msg.ack();
      done += 1;
    }
  })();
  try {
    const before = snapshotCpu();
    // One timer per message (not the 1 ms polling of the latency floors above): the bench process's
    // CPU is then what the relay's parts cost.
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      await sleep(Math.max(0, start + (i * 1000) / ratePerSecond - performance.now()));
      await js.publish(subjectIn, performance.now().toFixed(3));
    }
    await waitUntil('durable path floor messages', () => done >= total, 60_000, 10);
    const { used } = cpuBetween(before, snapshotCpu());
    const perMessage = (label: string) => Math.round(((used[label] ?? 0) / total) * 1000 * 1000) / 1000;
    const result = {
      ratePerSecond,
      messages: total,
      latencyMs: latencySummary(latencies),
      cpuMsPerMessage: Object.fromEntries(
        ['nats-server', 'postgres', 'bench clients'].map((label) => [label, perMessage(label)]),
      ),
    };
    say(
      `durable path floor: ${total} messages at ${ratePerSecond}/s, CPU ms per message ` +
        Object.entries(result.cpuMsPerMessage)
          .map(([label, ms]) => `${label} ${ms}`)
          .join(', '),
    );
    return result;
  } finally {
    decided.stop();
    delivered.stop();
    await Promise.allSettled([deciding, delivering]);
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.end().catch(() => undefined);
    for (const name of Object.values(names)) await jsm.streams.delete(name).catch(() => undefined);
  }
}

async function closeQuietly(nc: NatsConnection): Promise<void> {
  await nc.close().catch(() => undefined);
}

// ---- the profile --------------------------------------------------------------------------------

let profileWindow: { startUs: number; endUs: number } | undefined;

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a profiled function lives: a package, one of our libs/services, or V8/Node itself. */
function packageOf(url: string): string {
  if (!url) return '(V8 / native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const ours = /(libs|services)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url.startsWith('node:') ? 'node (core modules)' : url;
}

/**
 * One V8 CPU profile, counting only samples inside the window: the top self-time entries, the
 * packages, and the top inclusive entries among our own functions (libs/, services/) — the time
 * spent in a function and everything it called, which says which step of ours costs what.
 */
function profileSummary(file: string, window: { startUs: number; endUs: number } | undefined, top = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const keyOf = (frame: CpuProfile['nodes'][number]['callFrame']) => {
    const url = frame.url.replace(`file://${root}`, '');
    const where = url ? ` ${url.replace(/^.*node_modules\//, '')}:${frame.lineNumber + 1}` : '';
    return { key: `${frame.functionName || '(anonymous)'}${where}`, url };
  };
  const selfUs = new Map<string, number>();
  const ownTotalUs = new Map<string, number>();
  const packageUs = new Map<string, number>();
  let at = profile.startTime;
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.startUs || at > window.endUs)) continue;
    const spent = profile.timeDeltas[i + 1] ?? 0;
    const node = nodes.get(profile.samples[i]!);
    if (!node) continue;
    totalUs += spent;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += spent;
      continue;
    }
    const { key, url } = keyOf(node.callFrame);
    selfUs.set(key, (selfUs.get(key) ?? 0) + spent);
    const pkg = packageOf(url);
    packageUs.set(pkg, (packageUs.get(pkg) ?? 0) + spent);
    // Each of our functions on the sample's stack once (recursion counted once).
    const counted = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
      const frame = keyOf(nodes.get(id)!.callFrame);
      if (!/^\/?(libs|services)\//.test(frame.url) || counted.has(frame.key)) continue;
      counted.add(frame.key);
      ownTotalUs.set(frame.key, (ownTotalUs.get(frame.key) ?? 0) + spent);
    }
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const rank = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([entry, us]) => ({
        entry,
        ms: Math.round(us / 100) / 10,
        percentOfBusy: Math.round((us / busyUs) * 1000) / 10,
      }));
  return {
    file: path.relative(root, file),
    windowMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    topSelf: rank(selfUs, top),
    topOwnInclusive: rank(ownTotalUs, top),
    byPackage: rank(packageUs, 12),
  };
}

type ProfileSummary = ReturnType<typeof profileSummary>;

/** The summaries of every service's profile, busiest first (read after the services exited). */
function serviceProfiles(profileDir: string): Record<string, ProfileSummary> {
  const files = existsSync(profileDir) ? readdirSync(profileDir) : [];
  const summaries: [string, ProfileSummary][] = [];
  for (const service of parleyServices) {
    const file = files.find((f) => f.includes(`.${service.child.pid}.`) && f.endsWith('.cpuprofile'));
    if (file) summaries.push([service.name, profileSummary(path.join(profileDir, file), profileWindow)]);
    else say(`no CPU profile of ${service.name} was written`);
  }
  return Object.fromEntries(summaries.sort((a, b) => b[1].busyMs - a[1].busyMs));
}

/** The services' busy time in the window, then the top entries of those busy for at least a tenth of the busiest. */
function profileReport(profiles: Record<string, ProfileSummary>): string {
  const entries = Object.entries(profiles);
  if (entries.length === 0) return '';
  const busiest = entries[0]![1].busyMs;
  let text = `\nCPU profiles during the first Parley fixed-rate step (${entries[0]![1].windowMs} ms):\n`;
  text += table([['service', 'busy ms'], ...entries.map(([name, p]) => [name, String(p.busyMs)])]);
  const rows = (list: ProfileSummary['topSelf']) =>
    list.map((t) => [String(t.ms), String(t.percentOfBusy), t.entry]);
  for (const [name, p] of entries.filter(([, p]) => p.busyMs >= busiest / 10)) {
    text += `\n\n${name} (${p.file}):\n`;
    text += `${table([['self ms', '% of busy', 'function'], ...rows(p.topSelf.slice(0, 12))])}\n\n`;
    text += `${table([['with callees ms', '% of busy', 'our function'], ...rows(p.topOwnInclusive.slice(0, 12))])}\n\n`;
    text += table([['self ms', '% of busy', 'package'], ...rows(p.byPackage.slice(0, 8))]);
  }
  return `${text}\n`;
}

// ---- the report ---------------------------------------------------------------------------------

/** How much of a step's path CPU the same time at rest would have cost. */
function restShare(idle: IdleResult, step: StepResult): string {
  const stepSeconds = (step.window.endUs - step.window.startUs) / 1e6;
  const pathSeconds = ((step.pathCpuPer1000 ?? 0) * step.delivered) / 1000;
  if (pathSeconds <= 0) return '–';
  return `${Math.round(((idle.pathCpuMsPerSecond * stepSeconds) / 1000 / pathSeconds) * 100)} %`;
}

function fmtMs(v: number | null): string {
  if (v === null) return '–';
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return '–';
  const r = a / b;
  return r >= 10 ? `${Math.round(r)}×` : r >= 1 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

function satText(s: SaturationResult | null): string {
  if (!s) return '–';
  if (s.heldMessagesPerSecond === 0)
    return `none (even the fixed rate: p99 ${fmtMs(s.firstFailed?.p99 ?? null)})`;
  const capped = s.firstFailed === null ? ' (no step failed; cap reached)' : '';
  return `${s.heldMessagesPerSecond} msg/s = ${s.heldDeliveriesPerSecond} deliveries/s${capped}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((cell, col) => cell.padEnd(widths[col]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

function report(sizes: SizeResult[], many: ManyResult | null, floor: FloorResult | null): string {
  const rows: string[][] = [['scenario', 'Parley', 'MUC', 'Parley / MUC']];
  for (const s of sizes) {
    const p = s.parley.fixed;
    const m = s.muc.fixed;
    rows.push([
      `N = ${s.participants}, ${p.offeredDeliveriesPerSecond} deliveries/s: latency p50 / p99`,
      `${fmtMs(p.latencyMs.p50)} / ${fmtMs(p.latencyMs.p99)}`,
      `${fmtMs(m.latencyMs.p50)} / ${fmtMs(m.latencyMs.p99)}`,
      `${ratio(p.latencyMs.p50, m.latencyMs.p50)} / ${ratio(p.latencyMs.p99, m.latencyMs.p99)}`,
    ]);
    rows.push([
      `N = ${s.participants}: lost / doubled / late (> ${LATE_MS} ms)`,
      `${p.lost} / ${p.duplicates} / ${p.late}`,
      `${m.lost} / ${m.duplicates} / ${m.late}`,
      '',
    ]);
    rows.push([
      `N = ${s.participants}: CPU s per 1,000 deliveries (path)`,
      `${p.pathCpuPer1000 ?? '–'}`,
      `${m.pathCpuPer1000 ?? '–'}`,
      ratio(p.pathCpuPer1000, m.pathCpuPer1000),
    ]);
    rows.push([
      `N = ${s.participants}: CPU ms a second at rest (path; share of the fixed step's CPU)`,
      `${s.parley.idle.pathCpuMsPerSecond} (${restShare(s.parley.idle, p)})`,
      `${s.muc.idle.pathCpuMsPerSecond} (${restShare(s.muc.idle, m)})`,
      ratio(s.parley.idle.pathCpuMsPerSecond, s.muc.idle.pathCpuMsPerSecond),
    ]);
    if (s.parley.saturation || s.muc.saturation) {
      rows.push([
        `N = ${s.participants}: highest rate held (p99 ≤ ${HOLD_P99_MS} ms, nothing late/lost)`,
        satText(s.parley.saturation),
        satText(s.muc.saturation),
        ratio(s.parley.saturation?.heldDeliveriesPerSecond, s.muc.saturation?.heldDeliveriesPerSecond),
      ]);
    }
    rows.push([
      `N = ${s.participants}: all joined (Parley: start → every "You joined")`,
      `${s.parley.joinSeconds} s`,
      `${s.muc.joinSeconds} s`,
      ratio(s.parley.joinSeconds, s.muc.joinSeconds),
    ]);
  }
  if (many) {
    rows.push([
      `${many.conferences} conferences × ${many.size}, ${many.rate} msg/s each: p50 / p99`,
      `${fmtMs(many.parley.latencyMs.p50)} / ${fmtMs(many.parley.latencyMs.p99)}`,
      `${fmtMs(many.muc.latencyMs.p50)} / ${fmtMs(many.muc.latencyMs.p99)}`,
      `${ratio(many.parley.latencyMs.p50, many.muc.latencyMs.p50)} / ${ratio(many.parley.latencyMs.p99, many.muc.latencyMs.p99)}`,
    ]);
    rows.push([
      `${many.conferences} conferences: lost / doubled / late; CPU s per 1,000 deliveries`,
      `${many.parley.lost} / ${many.parley.duplicates} / ${many.parley.late}; ${many.parley.pathCpuPer1000 ?? '–'}`,
      `${many.muc.lost} / ${many.muc.duplicates} / ${many.muc.late}; ${many.muc.pathCpuPer1000 ?? '–'}`,
      ratio(many.parley.pathCpuPer1000, many.muc.pathCpuPer1000),
    ]);
  }
  let text = table(rows);

  // Every process on the path, per Parley step (MUC's path is Prosody alone).
  const steps = [
    ...sizes.flatMap((s) => [s.parley.fixed, s.muc.fixed]),
    ...(many ? [many.parley, many.muc] : []),
  ];
  const labels = [...new Set(steps.flatMap((s) => Object.keys(s.cpuPer1000)))];
  const cpuRows: string[][] = [
    [
      'CPU s per 1,000 deliveries',
      ...steps.map(
        (s) => `${s.system} ${s.scenario} N=${s.participants}${s.conferences > 1 ? `×${s.conferences}` : ''}`,
      ),
    ],
  ];
  for (const label of labels) cpuRows.push([label, ...steps.map((s) => String(s.cpuPer1000[label] ?? '–'))]);
  cpuRows.push(['path total (MUC: Prosody)', ...steps.map((s) => String(s.pathCpuPer1000 ?? '–'))]);
  text += `\n\n${table(cpuRows)}`;

  const rests = sizes.flatMap((s) => [
    { name: `parley N=${s.participants}`, idle: s.parley.idle },
    { name: `muc N=${s.participants}`, idle: s.muc.idle },
  ]);
  const restLabels = [...new Set(rests.flatMap((r) => Object.keys(r.idle.cpuMsPerSecond)))];
  text += `\n\n${table([
    ['CPU ms a second at rest', ...rests.map((r) => r.name)],
    ...restLabels.map((label) => [label, ...rests.map((r) => String(r.idle.cpuMsPerSecond[label] ?? '–'))]),
    ['path total (MUC: Prosody)', ...rests.map((r) => String(r.idle.pathCpuMsPerSecond))],
  ])}`;

  const traced = sizes.map((s) => s.parley.fixed).filter((step) => step.hops);
  if (traced.length > 0) {
    const leg = (h: Percentiles) => `${fmtMs(h.p50)} / ${fmtMs(h.p99)}`;
    text += `\n\n${table([
      [
        'Parley fixed step: where the time goes, p50 / p99',
        'client → IM_INBOUND',
        'IM_INBOUND → IM_OUTBOUND (→ decision begins → rows written → stored)',
        'IM_OUTBOUND → client',
        'end to end',
      ],
      ...traced.map((step) => [
        `N = ${step.participants} (${step.hops!.messages} messages traced)`,
        leg(step.hops!.toInbound),
        `${leg(step.hops!.inboundToOutbound)} (${[
          step.hops!.inboundToDecision,
          step.hops!.decisionToDecided,
          step.hops!.decidedToOutbound,
        ]
          .map((h) => fmtMs(h.p50))
          .join(' + ')} p50)`,
        leg(step.hops!.outboundToClient),
        leg(step.latencyMs),
      ]),
    ])}`;
  }

  if (floor) {
    text += `\n\n${table([
      [
        'bus floor (one process publishes, another connection consumes)',
        'latency p50 / p99',
        'throughput',
        'nats-server CPU s / 1,000',
      ],
      [
        `NATS core publish → subscribe (latency at ${floor.core.ratePerSecond} msg/s)`,
        `${fmtMs(floor.core.latencyMs.p50)} / ${fmtMs(floor.core.latencyMs.p99)}`,
        `${floor.core.throughputPerSecond} msg/s`,
        String(floor.core.cpuPer1000['nats-server']),
      ],
      [
        `JetStream acked publish → pull consume + ack (latency at ${floor.jetstream.ratePerSecond} msg/s)`,
        `${fmtMs(floor.jetstream.latencyMs.p50)} / ${fmtMs(floor.jetstream.latencyMs.p99)}`,
        `${floor.jetstream.throughputPerSecond} msg/s`,
        String(floor.jetstream.cpuPer1000['nats-server']),
      ],
    ])}`;
    const path = floor.durablePath;
    const stores = (path.cpuMsPerMessage['nats-server'] ?? 0) + (path.cpuMsPerMessage['postgres'] ?? 0);
    const whole = stores + (path.cpuMsPerMessage['bench clients'] ?? 0);
    // The room's Prosody per message at N = 10 (CPU s per 1,000 deliveries = ms per delivery, and a
    // message is participants − 1 deliveries): what Parley's own processes may spend (issue 12).
    const ten = sizes.find((s) => s.participants === 10);
    const room = ten ? (ten.muc.fixed.cpuPer1000['prosody'] ?? 0) * (ten.participants - 1) : null;
    text += `\n\n${table([
      [
        `durable path floor: JetStream → one PostgreSQL commit → JetStream → consumed, ${path.ratePerSecond} msg/s`,
        'latency p50 / p99',
        'nats-server + PostgreSQL CPU ms / message',
        "against the room's Prosody per message, N = 10: the stores; with the relay's process",
      ],
      [
        `${path.messages} messages (the bench process: ${path.cpuMsPerMessage['bench clients']} ms / message)`,
        `${fmtMs(path.latencyMs.p50)} / ${fmtMs(path.latencyMs.p99)}`,
        `${round2(path.cpuMsPerMessage['nats-server'] ?? 0)} + ${round2(path.cpuMsPerMessage['postgres'] ?? 0)} = ${round2(stores)}`,
        room ? `${round2(stores / room)}×; ${round2(whole / room)}× (the room: ${round2(room)} ms)` : '–',
      ],
    ])}`;
  }
  return text;
}

// ---- main ---------------------------------------------------------------------------------------

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${commit}+dirty` : commit;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  mkdirSync(args.out!, { recursive: true });
  const runName = `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  say(`${plan.mode} run ${runName}, bus prefix ${prefix}, commit ${gitCommit()}`);
  const profileDir = path.join(args.out!, 'profiles', runName);

  const prosodyPid = listenerPid(xmppEnv.c2sPort);
  const natsPort = Number(new URL(testEnv.natsUrl()).port || 4222);
  const natsPid = listenerPid(natsPort);
  if (!prosodyPid)
    throw new Error(
      `no Prosody listens on ${xmppEnv.host}:${xmppEnv.c2sPort} (bash deploy/local/services.sh start)`,
    );
  // Looked up at every snapshot, so a restarted server shows up as a vanished process.
  watched.push({ label: 'prosody', pids: () => [listenerPid(xmppEnv.c2sPort) ?? prosodyPid] });
  watched.push({
    label: 'nats-server',
    pids: () => (natsPid ? [listenerPid(natsPort) ?? natsPid] : processesNamed('nats-server')),
  });
  // The cluster Parley uses, not every PostgreSQL on the machine (test runs start their own).
  const pgPort = Number(new URL(testEnv.databaseUrl()).port || 5432);
  watched.push({
    label: 'postgres',
    pids: () => {
      const postmaster = listenerPid(pgPort);
      return postmaster ? withChildren(postmaster) : processesNamed('postgres');
    },
  });

  const floor = plan.floor ? await runFloor() : null;

  const clients: BenchClient[] = [];
  let mailbox: TestMailbox | undefined;
  let releaseComponent: (() => Promise<void>) | undefined;
  const sizes: SizeResult[] = [];
  let many: ManyResult | null = null;
  let failure: unknown;
  try {
    const poolSize = Math.max(
      ...plan.sizes,
      plan.many ? Math.min(plan.many.pool, Math.max(...plan.sizes)) : 0,
    );
    let start = performance.now();
    users.push(
      ...(await inBatches(Array.from({ length: poolSize }), 4, () => createXmppUser(`bench${runTag}`))),
    );
    say(`registered ${users.length} XMPP users in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    start = performance.now();
    // SCRAM logins cost ~200 ms of CPU each: a few at a time.
    clients.push(...(await inBatches(users, plan.loginConcurrency, (user, i) => connectClient(i, user))));
    say(`${clients.length} clients logged in after ${((performance.now() - start) / 1000).toFixed(1)} s`);

    // Prosody takes one connection per component domain: wait for any test holding it.
    say('waiting for the XMPP component domain (held by any running test that connects a gateway)…');
    releaseComponent = await holdXmppComponentDomain();
    componentDomain = testEnv.xmpp().componentDomain.toLowerCase();
    mailbox = await TestMailbox.start();
    start = performance.now();
    parleyServices = await startParley(mailbox, path.join(args.out!, 'logs', runName), profileDir);
    for (const service of parleyServices)
      watched.push({ label: service.name, pids: () => [service.child.pid!] });
    say(
      `${parleyServices.length} Parley services ready after ${((performance.now() - start) / 1000).toFixed(1)} s`,
    );
    const rest = new Rest(parleyServices.find((s) => s.name === 'api-gateway')!.url);
    await rest.registerOwner(mailbox);

    for (const n of plan.sizes) sizes.push(await runSize(n, clients, rest));
    if (plan.many) many = await runMany(clients, rest);
  } catch (error) {
    failure = error;
  } finally {
    stopping = true;
    process.on('uncaughtException', lateClientData);
    await Promise.all(clients.map((c) => c.xmpp.stop().catch(() => undefined)));
    process.off('uncaughtException', lateClientData);
    await stopParley(parleyServices);
    await mailbox?.close();
    await releaseComponent?.();
    await cleanupNamespace(prefix).catch((error: Error) => say(`cleanup failed: ${error.message}`));
    await deleteUsers();
  }
  if (failure) {
    for (const service of parleyServices) {
      if (service.stderrTail())
        process.stderr.write(`--- ${service.name} stderr ---\n${service.stderrTail()}\n`);
    }
    if (inbound.errors.length > 0)
      process.stderr.write(`client errors:\n${inbound.errors.slice(0, 20).join('\n')}\n`);
    throw failure;
  }

  const profiles = args.profile ? serviceProfiles(profileDir) : null;

  // A step's "lost" are those missing when its drain window closed; some may have come since.
  for (const step of allSteps) step.arrivedAfterDrain = trackers.get(step.tag)?.afterClose ?? 0;
  const text = report(sizes, many, floor);
  process.stdout.write(`\n${text}\n`);
  if (profiles) process.stdout.write(profileReport(profiles));
  if (inbound.errors.length > 0 || sendErrors > 0) {
    say(`client errors: ${inbound.errors.length} stanza/connection errors, ${sendErrors} failed sends`);
  }
  const result = {
    run: runName,
    mode: plan.mode,
    commit: gitCommit(),
    startedAt: startedAt.toISOString(),
    seconds: Math.round((performance.now() - runWall) / 1000),
    machine: { cpus: os.cpus().length, loadAverage: os.loadavg(), node: process.version },
    plan,
    criteria: { holdP99Ms: HOLD_P99_MS, lateMs: LATE_MS },
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PARLEY_GATEWAY_'))),
    diagnostics: { profile: args.profile, nodelay: args['nodelay-services'] ?? args.nodelay },
    sizes,
    many,
    floor,
    profiles,
    clientErrors: {
      stanzaErrors: inbound.errors.length,
      failedSends: sendErrors,
      examples: inbound.errors.slice(0, 10),
    },
    table: text,
  };
  const file = path.join(args.out!, `${runName}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${path.relative(process.cwd(), file) || file} (${result.seconds} s in all)`);
  return teardownFailed ? 1 : 0;
}

/**
 * @xmpp/connection 0.14.0 throws from a socket's 'data' event that comes after stop() detached the
 * stream parser (xmppjs/xmpp.js#860, fixed upstream by PR #1100, not in a release yet). With 500
 * clients stopping at once it happened, and the bench died before stopping the services it had
 * started (they outlived it). While the clients stop, that error is said and the teardown goes on.
 */
function lateClientData(error: Error): void {
  if (error instanceof TypeError && error.stack?.includes('_onData')) {
    say(`a client got data after it stopped (xmpp.js#860): ${error.message}`);
    return;
  }
  process.stderr.write(`uncaught while stopping the clients: ${error.stack ?? error.message}\n`);
  teardownFailed = true;
}
let teardownFailed = false;

// Ctrl-C: stop the services this run started (they would otherwise outlive it) and remove its namespace.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopping = true;
    say(`${signal}: stopping the Parley services and removing bus prefix ${prefix}`);
    void stopParley(parleyServices)
      .then(() => cleanupNamespace(prefix))
      .then(() => deleteUsers())
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
