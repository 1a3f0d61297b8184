// `npm test`: runs the whole vitest suite (unit, integration, e2e) against the real servers and
// ends with one plain summary line, `N passed, N failed[, N skipped]`.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

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
