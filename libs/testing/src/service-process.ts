/**
 * A built service run as its own process, as in production, for crash tests: started with this
 * file's bus prefix and schema, ready once it answers `ping` from its own pid, killable with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RpcClient } from '@parley/bus';
import { pingRpc, type ServiceName } from '@parley/contracts';
import { serviceTestEnv } from './services.js';
import { waitFor } from './wait.js';

export interface ServiceProcess {
  child: ChildProcess;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** Its log lines so far (stdout; at PARLEY_LOG_LEVEL, `error` unless the caller sets another). */
  logs(): string;
  /** Resolves when the process has exited (at once if it already has). */
  exited(): Promise<void>;
}

/** Runs `services/<service>/dist/main.js` (build first) with `serviceTestEnv(service, extraEnv)`. */
export function spawnService(service: ServiceName, extraEnv: Record<string, string> = {}): ServiceProcess {
  let stderr = '';
  let logs = '';
  const child = spawn(process.execPath, [`services/${service}/dist/main.js`], {
    env: { ...process.env, ...serviceTestEnv(service, { PARLEY_LOG_LEVEL: 'error', ...extraEnv }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  return {
    child,
    stderr: () => stderr,
    logs: () => logs,
    exited: () =>
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => child.once('exit', () => resolve())),
  };
}

/** Spawns the service and waits until this very process answers `ping` over the bus. */
export async function spawnServiceReady(
  service: ServiceName,
  rpc: RpcClient,
  extraEnv: Record<string, string> = {},
): Promise<ServiceProcess> {
  const process = spawnService(service, extraEnv);
  await waitFor(
    `the ${service} process (pid ${process.child.pid}) to answer ping`,
    async () => {
      if (process.child.exitCode !== null) throw new Error(`${service} exited: ${process.stderr()}`);
      const reply = await rpc.call(pingRpc(service), { from: 'test' }, 1_000);
      return reply.pid === process.child.pid;
    },
    30_000,
  );
  return process;
}
