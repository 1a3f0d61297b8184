// `npm test`: the whole vitest suite (projects unit, integration, e2e, deploy, chaos, bench — see
// vitest.config.ts) against the real servers, ending with one plain summary line
// `N passed, N failed[, N skipped]` that counts every failure: failed tests, test files that failed
// to load or in a hook (beforeAll/afterAll), and errors vitest reports outside any test.
// `npm test -- --project unit` runs one tier; the unit tier needs no server, so none is started.
// On a fresh clone it first installs, builds and starts the local servers (deploy/local/services.sh).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureReady, root } from './bootstrap.mjs';
import { summarise } from './lib/test-summary.mjs';

ensureReady(fileURLToPath(import.meta.url));
process.chdir(root);

const args = process.argv.slice(2);

/** The projects named with --project (either spelling); empty = all. */
function selectedProjects(argv) {
  const names = [];
  argv.forEach((arg, i) => {
    if (arg === '--project' && argv[i + 1]) names.push(argv[i + 1]);
    else if (arg.startsWith('--project=')) names.push(arg.slice('--project='.length));
  });
  return names;
}
const projects = selectedProjects(args);
const needsServers = projects.length === 0 || projects.some((name) => name !== 'unit');

if (needsServers && process.env.PARLEY_TEST_SERVERS !== 'external') {
  const servers = spawnSync('bash', ['deploy/local/services.sh', 'start'], { stdio: 'inherit' });
  if (servers.status !== 0) {
    console.log('0 passed, 1 failed (the test servers could not be started; see above)');
    process.exit(servers.status || 1);
  }
}

// vitest 5 keeps stale transforms; a nested run (a test of this script) keeps the outer run's cache.
if (!process.env.VITEST) rmSync('node_modules/.vitest-cache', { recursive: true, force: true });
const reportDir = mkdtempSync(path.join(tmpdir(), 'parley-vitest-'));
const reportFile = path.join(reportDir, 'report.json');
const result = spawnSync(
  'vitest',
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...args],
  { stdio: 'inherit' },
);
let report = null;
try {
  report = JSON.parse(readFileSync(reportFile, 'utf8'));
} catch {
  // summarise() counts a missing report as a failure
}
rmSync(reportDir, { recursive: true, force: true });
const summary = summarise(report, result.status ?? 1);
for (const line of summary.details) console.log(line);
console.log(summary.line);
process.exit(summary.exitCode);
