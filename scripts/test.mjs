// `npm test`: the whole vitest suite (unit, integration, e2e, deployment checks) against the real
// servers, ending with one plain summary line `N passed, N failed[, N skipped]`.
// On a fresh clone it first installs, builds and starts the local servers (deploy/local/services.sh).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureReady, root } from './bootstrap.mjs';

ensureReady(fileURLToPath(import.meta.url));
process.chdir(root);

if (process.env.PARLEY_TEST_SERVERS !== 'external') {
  const servers = spawnSync('bash', ['deploy/local/services.sh', 'start'], { stdio: 'inherit' });
  if (servers.status !== 0) process.exit(servers.status ?? 1);
}

rmSync('node_modules/.vitest-cache', { recursive: true, force: true }); // vitest 5 keeps stale transforms
rmSync('.vitest.json', { force: true });
const result = spawnSync('vitest', ['run', ...process.argv.slice(2)], { stdio: 'inherit' });
let summary = 'no test report was written';
try {
  const report = JSON.parse(readFileSync('.vitest.json', 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  summary = `${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
  if (report.numTotalTests === 0) summary += ' (no test ran)';
} catch (error) {
  summary += `: ${error.message}`;
}
console.log(summary);
process.exit(result.status ?? 1);
