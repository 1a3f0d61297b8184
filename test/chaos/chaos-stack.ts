/**
 * The whole of Parley on servers of its own, for the chaos suite: a nats-server with JetStream
 * (own port, own store directory, so restarting it disturbs nobody else's tests and keeps its
 * data), a throwaway PostgreSQL cluster, a Prosody and an ngircd — each restartable — and every
 * service as its own process (built dist), killable with SIGKILL or SIGTERM and restartable on the
 * same port. Participants are real XMPP and IRC clients that reconnect after their server restarts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import IRC from 'irc-framework';
import pg from 'pg';
import type { ServiceName } from '@parley/contracts';
import { createXmppUser, waitFor, xml, XmppTestClient, type XmppTestUser } from '@parley/testing';
import {
  freePort,
  startNgircd,
  waitForPort,
  repoRoot,
  spawnCollecting,
  startProsody,
  stop,
  type Spawned,
} from '../deploy/helpers.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const AS_POSTGRES = ['--reuid=postgres', '--regid=postgres', '--init-groups'];

/** The servers: NATS, PostgreSQL, Prosody, ngircd — each on a free port, each restartable. */
export class ChaosServers {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'parley-chaos-'));
  readonly secret = randomBytes(12).toString('hex');
  ports = { nats: 0, pg: 0, c2s: 0, component: 0, irc: 0 };
  private nats: Spawned | undefined;
  private pg: Spawned | undefined;
  private prosody: Spawned | undefined;
  private ngircd: Spawned | undefined;
  prosodyConfig = '';

  get natsUrl(): string {
    return `nats://127.0.0.1:${this.ports.nats}`;
  }

  get databaseUrl(): string {
    return `postgres://parley:parley@127.0.0.1:${this.ports.pg}/parley`;
  }

  async start(): Promise<void> {
    // The postgres and prosody users must be able to reach their directories below this one.
    chmodSync(this.dir, 0o755);
    this.ports = {
      nats: await freePort(),
      pg: await freePort(),
      c2s: await freePort(),
      component: await freePort(),
      irc: await freePort(),
    };
    await this.startNats();
    await this.initPostgres();
    await this.startProsody();
    await this.startNgircd();
  }

  /** Stops every server and removes their data; logs written with keepLogs() stay. */
  async stopAll(): Promise<void> {
    await stop(this.ngircd);
    await stop(this.prosody);
    await stop(this.nats);
    await stop(this.pg, 'SIGINT');
    for (const data of ['pg', 'jetstream', 'prosody']) {
      rmSync(path.join(this.dir, data), { recursive: true, force: true });
    }
  }

  /** Writes each process's output to `<dir>/logs/<name>.log`; returns the directory. */
  keepLogs(outputs: Array<{ name: string; output: string }>): string {
    const logs = path.join(this.dir, 'logs');
    mkdirSync(logs, { recursive: true });
    for (const { name, output } of outputs) writeFileSync(path.join(logs, `${name}.log`), output);
    return logs;
  }

  // ---- NATS ----
  async startNats(): Promise<void> {
    this.nats = spawnCollecting('nats-server', [
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      String(this.ports.nats),
      '-sd',
      path.join(this.dir, 'jetstream'),
    ]);
    await waitForPort(this.ports.nats, 'nats-server', this.nats);
  }

  /** Stops nats-server (SIGTERM) and starts it again on the same port and store: JetStream data kept. */
  async restartNats(): Promise<void> {
    await stop(this.nats);
    await this.startNats();
  }

  // ---- PostgreSQL: a throwaway cluster owned by this run ----
  private async initPostgres(): Promise<void> {
    const pgDir = path.join(this.dir, 'pg');
    mkdirSync(pgDir);
    execFileSync('chown', ['postgres:postgres', pgDir]);
    execFileSync('setpriv', [
      ...AS_POSTGRES,
      `${PG_BIN}/initdb`,
      '-D',
      path.join(pgDir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await this.startPostgres();
    const admin = new pg.Client({
      host: '127.0.0.1',
      port: this.ports.pg,
      user: 'postgres',
      database: 'postgres',
    });
    await admin.connect();
    await admin.query("CREATE ROLE parley LOGIN PASSWORD 'parley'");
    await admin.query('CREATE DATABASE parley OWNER parley');
    await admin.end();
  }

  async startPostgres(): Promise<void> {
    const pgDir = path.join(this.dir, 'pg');
    this.pg = spawnCollecting('setpriv', [
      ...AS_POSTGRES,
      `${PG_BIN}/postgres`,
      '-D',
      path.join(pgDir, 'data'),
      '-p',
      String(this.ports.pg),
      '-k',
      pgDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
    ]);
    await waitFor(
      `PostgreSQL on ${this.ports.pg}`,
      async () => {
        if (this.pg!.child.exitCode !== null) throw new Error(`postgres exited:\n${this.pg!.output()}`);
        const client = new pg.Client({
          host: '127.0.0.1',
          port: this.ports.pg,
          user: 'postgres',
          database: 'postgres',
        });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      30_000,
      100,
    );
  }

  /** A fast shutdown (SIGINT: sessions ended, data flushed), then a start on the same data. */
  async restartPostgres(): Promise<void> {
    await stop(this.pg, 'SIGINT');
    await this.startPostgres();
  }

  // ---- Prosody ----
  async startProsody(): Promise<void> {
    const started = await startProsody(path.join(this.dir, 'prosody'), {
      c2sPort: this.ports.c2s,
      componentPort: this.ports.component,
      secret: this.secret,
    });
    this.prosody = started.server;
    this.prosodyConfig = started.configFile;
  }

  async restartProsody(): Promise<void> {
    await stop(this.prosody);
    await this.startProsody();
  }

  createXmppUser(name: string): Promise<XmppTestUser> {
    return createXmppUser(name, { domain: 'localhost', prosodyConfig: this.prosodyConfig });
  }

  // ---- ngircd ----
  async startNgircd(): Promise<void> {
    this.ngircd = await startNgircd(path.join(this.dir, 'ngircd'), this.ports.irc);
  }

  async restartNgircd(): Promise<void> {
    await stop(this.ngircd);
    await this.startNgircd();
  }
}

/** Parley's services, one process each, on the chaos servers. */
export const STACK_SERVICES: ServiceName[] = [
  'conference-core',
  'archive',
  'presence',
  'gateway-xmpp',
  'gateway-irc',
  'accounts',
  'contact-import',
  'api-gateway',
];

export interface ProcessSample {
  at: number;
  service: ServiceName;
  rssBytes: number;
  heapUsedBytes: number;
  /** What V8 reserved for its heap: RSS that grows with this is the heap's, not native memory. */
  heapTotalBytes: number;
  /** Memory outside the heap that JavaScript objects hold (Buffers among it). */
  externalBytes: number;
  handles: number;
}

/** One service process, restartable on the same HTTP port. */
export class ChaosService {
  private spawned: Spawned | undefined;
  private earlierOutput = '';
  port = 0;
  restarts = 0;

  constructor(
    readonly name: ServiceName,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get pid(): number | undefined {
    return this.spawned?.child.pid;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    if (this.spawned) this.earlierOutput += `${this.spawned.output()}\n---- restart ----\n`;
    this.spawned = spawnCollecting(process.execPath, [`services/${this.name}/dist/main.js`], {
      cwd: repoRoot,
      env: { ...this.env, PARLEY_HTTP_PORT: String(this.port) },
    });
    await this.waitReady();
  }

  /** Waits for /health/ready (every dependency answering; a gateway connected to its network). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const spawned = this.spawned!;
    await waitFor(
      `${this.name} (pid ${spawned.child.pid}) to be ready`,
      async () => {
        if (spawned.child.exitCode !== null) throw new Error(`${this.name} exited:\n${spawned.output()}`);
        return (await fetch(`http://127.0.0.1:${this.port}/health/ready`)).ok;
      },
      timeoutMs,
      100,
    );
  }

  /** Kills the process with `signal` and waits for it; returns how long it took to exit (ms). */
  async kill(signal: NodeJS.Signals): Promise<{ ms: number; code: number | null }> {
    const spawned = this.spawned!;
    const from = Date.now();
    spawned.child.kill(signal);
    await spawned.exited;
    return { ms: Date.now() - from, code: spawned.child.exitCode };
  }

  async restart(signal: NodeJS.Signals): Promise<{ ms: number; code: number | null }> {
    const stopped = await this.kill(signal);
    this.restarts++;
    await this.start();
    return stopped;
  }

  async stop(): Promise<void> {
    await stop(this.spawned);
  }

  /** What every process of this service wrote so far. */
  output(): string {
    return this.earlierOutput + (this.spawned?.output() ?? '');
  }

  /** Memory and handles of the process, from its /metrics (prom-client's default metrics). */
  async sample(): Promise<ProcessSample | null> {
    try {
      const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
      const metric = (name: string) =>
        Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
      return {
        at: Date.now(),
        service: this.name,
        rssBytes: metric('process_resident_memory_bytes'),
        heapUsedBytes: metric('nodejs_heap_size_used_bytes'),
        heapTotalBytes: metric('nodejs_heap_size_total_bytes'),
        externalBytes: metric('nodejs_external_memory_bytes'),
        handles: metric('nodejs_active_handles_total'),
      };
    } catch {
      return null;
    }
  }
}

/** The environment of every service on the chaos servers. */
export function stackEnv(servers: ChaosServers): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    PARLEY_LOG_LEVEL: process.env.PARLEY_CHAOS_LOG_LEVEL ?? 'error',
    PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX,
    PARLEY_GATEWAY_BATCH_DELIVERIES: process.env.PARLEY_GATEWAY_BATCH_DELIVERIES,
    PARLEY_NATS_URL: servers.natsUrl,
    PARLEY_DATABASE_URL: servers.databaseUrl,
    PARLEY_HTTP_HOST: '127.0.0.1',
    PARLEY_XMPP_COMPONENT_HOST: '127.0.0.1',
    PARLEY_XMPP_COMPONENT_PORT: String(servers.ports.component),
    PARLEY_XMPP_COMPONENT_DOMAIN: 'conf.localhost',
    PARLEY_XMPP_COMPONENT_SECRET: servers.secret,
    PARLEY_IRC_HOST: '127.0.0.1',
    PARLEY_IRC_PORT: String(servers.ports.irc),
    PARLEY_IRC_NICK_LENGTH: '30',
    PARLEY_IRC_PRESENCE_POLL_MS: '1000',
    // The no-loss promise is about an IRC network with accounts, where an away participant's
    // messages wait for them. On a nick-only network conference-core withholds them instead (a nick
    // proves nobody: ADR 0003), which this suite would count as losses at every ngircd restart.
    PARLEY_IRC_IDENTITY: 'account',
    PARLEY_GATEWAY_RATE_RECIPIENT: '100',
    PARLEY_GATEWAY_RATE_NETWORK: '1000',
    PARLEY_GATEWAY_BOUNCE_RETRY_MS: '1000,2000,5000,10000,20000,30000',
    PARLEY_JWT_SECRET: randomBytes(32).toString('base64'),
    PARLEY_SECRETS_KEY: randomBytes(32).toString('base64'),
    PARLEY_SECRETS_KEY_ID: 'k1',
  };
}

/**
 * Connects a participant, trying again while its server refuses the connection or closes it before
 * registration: after the server restarts, and at start-up on a busy machine (seen once).
 */
export async function connectPatiently(
  participant: { connect(): Promise<void> },
  what: string,
): Promise<void> {
  await waitFor(what, async () => (await participant.connect(), true), 30_000, 500);
}

/** A participant as the chaos suite sees them: a real client that reconnects, and what it heard from the bot. */
export interface ChaosParticipant {
  readonly name: string;
  readonly network: 'xmpp' | 'irc';
  readonly address: string;
  /** Bodies the bot sent, in order of arrival, over every connection this participant had. */
  heard(): string[];
  /** Sends to the bot; false when the client is not connected (the message was never sent). */
  say(text: string): Promise<boolean>;
  /** Whether the participant's server told them this message could not be delivered to the bot. */
  wasRefused(text: string): boolean;
  reconnect(): Promise<void>;
  stop(): Promise<void>;
}

export class XmppParticipant implements ChaosParticipant {
  readonly network = 'xmpp' as const;
  private readonly clients: XmppTestClient[] = [];
  botJid = '';

  constructor(
    readonly name: string,
    private readonly user: XmppTestUser,
    private readonly c2sPort: number,
  ) {}

  get address(): string {
    return this.user.jid;
  }

  get username(): string {
    return this.user.username;
  }

  async connect(): Promise<void> {
    this.clients.push(
      await XmppTestClient.connect(this.user, { c2sPort: this.c2sPort, autoAcceptSubscriptions: true }),
    );
  }

  heard(): string[] {
    return this.clients.flatMap((client) => client.messagesFrom(this.botJid));
  }

  async say(text: string): Promise<boolean> {
    const client = this.clients.at(-1);
    if (!client || client.xmpp.status !== 'online') return false;
    try {
      // The stanza id lets an error bounced back by the server be matched to this message.
      await client.send(
        xml('message', { to: this.botJid, type: 'chat', id: stanzaId(text) }, xml('body', {}, text)),
      );
      return true;
    } catch {
      return false;
    }
  }

  wasRefused(text: string): boolean {
    const id = stanzaId(text);
    return this.clients.some((client) =>
      client.received.some((s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === id),
    );
  }

  async reconnect(): Promise<void> {
    await this.clients.at(-1)?.stop();
    await connectPatiently(this, `${this.name} to log in again`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.stop()));
  }
}

export class IrcParticipant implements ChaosParticipant {
  readonly network = 'irc' as const;
  private client: IRC.Client | undefined;
  private registered = false;
  private readonly received: Array<{ from: string; text: string }> = [];
  /** Sends to the bot and "No such nick" answers about it, for matching refusals to messages. */
  private readonly sends: Array<{ text: string; at: number }> = [];
  private readonly refusals: number[] = [];
  botNick = '';

  constructor(
    readonly name: string,
    readonly address: string,
    private readonly port: number,
  ) {}

  /** Registers with the participant's own nick (the same one after every reconnect). */
  async connect(): Promise<void> {
    const client = new IRC.Client();
    this.client = client;
    client.on('message', (event: { nick: string; message: string; type: string }) => {
      if (event.type === 'privmsg') this.received.push({ from: event.nick, text: event.message });
    });
    client.on('close', () => {
      if (this.client === client) this.registered = false;
    });
    client.on('irc error', (event: { error: string; nick?: string }) => {
      if (event.error === 'no_such_nick' && event.nick?.toLowerCase() === this.botNick.toLowerCase()) {
        this.refusals.push(Date.now());
      }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('registered', () => {
        this.registered = true;
        resolve();
      });
      client.once('close', () =>
        reject(new Error(`IRC connection of ${this.address} closed before registration`)),
      );
      client.connect({
        host: '127.0.0.1',
        port: this.port,
        nick: this.address,
        username: this.address,
        gecos: this.name,
        auto_reconnect: false,
      });
    });
  }

  heard(): string[] {
    const bot = this.botNick.toLowerCase();
    return this.received.filter((m) => m.from.toLowerCase().startsWith(bot)).map((m) => m.text);
  }

  async say(text: string): Promise<boolean> {
    if (!this.client || !this.registered) return false;
    this.client.say(this.botNick, text);
    this.sends.push({ text, at: Date.now() });
    return true;
  }

  /**
   * A "No such nick" answer belongs to the latest send before it: the server answers within
   * milliseconds, and a participant sends only every few hundred.
   */
  wasRefused(text: string): boolean {
    const refused = new Set<string>();
    for (const at of this.refusals) {
      const send = this.sends.findLast((candidate) => candidate.at <= at);
      if (send && at - send.at < 2_000) refused.add(send.text);
    }
    return refused.has(text);
  }

  async reconnect(): Promise<void> {
    if (this.registered) this.client?.quit('reconnecting');
    this.client?.removeAllListeners('close');
    this.registered = false;
    await connectPatiently(this, `${this.name} to register on IRC again`);
  }

  async stop(): Promise<void> {
    if (this.registered) this.client?.quit('bye');
  }
}

/** A stanza id derived from a chat text (unique per text in the chaos traffic). */
function stanzaId(text: string): string {
  return `chaos-${Buffer.from(text).toString('base64url')}`;
}
