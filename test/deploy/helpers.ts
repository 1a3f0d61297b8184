/** Shared by the deployment checks: free ports, spawned processes that are always reaped, and paths. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@parley/testing';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A child process whose output is collected and whose exit can be awaited. */
/**
 * A base port with `count` free ports after it, below Linux's ephemeral range (32768+) so that no
 * outgoing connection of a concurrent test takes one of them meanwhile.
 */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const open = await Promise.all(Array.from({ length: count }, (_, i) => portOpen(base + i)));
    if (open.every((isOpen) => !isOpen)) return base;
  }
}

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCollecting(command: string, args: string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Waits until a spawned server listens on every port; fails at once, with its output, if it exited. */
export async function waitForPort(port: number | number[], what: string, spawned: Spawned): Promise<void> {
  const ports = [port].flat();
  await waitFor(
    `${what} to listen on ${ports.join(' and ')}`,
    async () => {
      if (spawned.child.exitCode !== null) throw new Error(`${what} exited:\n${spawned.output()}`);
      for (const p of ports) if (!(await portOpen(p))) return false;
      return true;
    },
    20_000,
    50,
  );
}

/**
 * Starts an ngircd of its own on `port` with the test configuration (deploy/ngircd/ngircd.test.conf.in:
 * no flood control, nicks up to 30), its state in `dir`; resolves once it listens.
 */
export async function startNgircd(dir: string, port: number): Promise<Spawned> {
  const { mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
  mkdirSync(path.join(dir, 'conf.d'), { recursive: true });
  const config = path.join(dir, 'ngircd.conf');
  writeFileSync(
    config,
    readFileSync(path.join(repoRoot, 'deploy/ngircd/ngircd.test.conf.in'), 'utf8')
      .replaceAll('@STATE@', dir)
      .replaceAll('@IRC_PORT@', String(port)),
  );
  const server = spawnCollecting('ngircd', ['-n', '-f', config]);
  await waitForPort(port, 'ngircd', server);
  return server;
}

/** Stops a spawned process (SIGTERM, then SIGKILL if it lingers) and waits for it. */
export async function stop(spawned: Spawned | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!spawned || spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
  spawned.child.kill(signal);
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), 15_000);
  await spawned.exited;
  clearTimeout(timer);
}

/** Resolves with the exit of a process, or rejects naming what was awaited after `ms`. */
export async function exitWithin(spawned: Spawned, what: string, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not exit within ${ms} ms:\n${spawned.output()}`)),
      ms,
    );
  });
  try {
    return await Promise.race([spawned.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A throwaway Prosody (the test config of deploy/prosody) on free ports, so a gateway-xmpp started
 * here never competes with other test files for the shared server's component domain (Prosody
 * accepts one connection per component). Runs as the `prosody` user when we are root.
 */
export async function startProsody(
  dir: string,
  ports?: { c2sPort: number; componentPort: number; secret?: string },
): Promise<{
  server: Spawned;
  env: Record<string, string>;
  c2sPort: number;
  configFile: string;
}> {
  const { chownSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const { randomBytes } = await import('node:crypto');
  const [c2sPort, componentPort] = ports
    ? [ports.c2sPort, ports.componentPort]
    : [await freePort(), await freePort()];
  const secret = ports?.secret ?? randomBytes(12).toString('hex');
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  mkdirSync(path.join(dir, 'certs'), { recursive: true });
  cpSync(path.join(repoRoot, 'deploy/prosody/modules'), path.join(dir, 'modules'), { recursive: true });
  const config = readFileSync(path.join(repoRoot, 'deploy/prosody/prosody.test.cfg.lua.in'), 'utf8')
    .replaceAll('@STATE@', dir)
    .replaceAll('@C2S_PORT@', String(c2sPort))
    .replaceAll('@COMPONENT_PORT@', String(componentPort))
    .replaceAll('@DOMAIN@', 'localhost')
    .replaceAll('@COMPONENT_DOMAIN@', 'conf.localhost')
    .replaceAll('@COMPONENT_SECRET@', secret);
  const file = path.join(dir, 'prosody.cfg.lua');
  writeFileSync(file, config);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'prosody'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'prosody'], { encoding: 'utf8' }));
    const modules = readdirSync(path.join(dir, 'modules')).map((name) => path.join(dir, 'modules', name));
    for (const p of [
      dir,
      path.join(dir, 'data'),
      path.join(dir, 'certs'),
      path.join(dir, 'modules'),
      ...modules,
      file,
    ])
      chownSync(p, uid, gid);
  }
  const server = asRoot
    ? spawnCollecting('setpriv', [
        '--reuid=prosody',
        '--regid=prosody',
        '--init-groups',
        'prosody',
        '--config',
        file,
        '-F',
      ])
    : spawnCollecting('prosody', ['--config', file, '-F']);
  try {
    await waitForPort([componentPort, c2sPort], 'Prosody', server);
  } catch (error) {
    await stop(server);
    throw error;
  }
  return {
    server,
    c2sPort,
    configFile: file,
    env: {
      PARLEY_XMPP_COMPONENT_HOST: '127.0.0.1',
      PARLEY_XMPP_COMPONENT_PORT: String(componentPort),
      PARLEY_XMPP_COMPONENT_DOMAIN: 'conf.localhost',
      PARLEY_XMPP_COMPONENT_SECRET: secret,
    },
  };
}
