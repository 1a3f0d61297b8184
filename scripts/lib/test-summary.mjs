// The closing line of `npm test`, from vitest's JSON report and exit code. Counts every failure:
// failed tests; test files that failed without a failed test (import error, a throwing
// beforeAll/afterAll: their tests show as skipped); and errors outside any test (an unhandled
// rejection: vitest exits non-zero while every test passed). The exit code agrees with the line.

/**
 * @param {any} report vitest's JSON report, or null when none was written
 * @param {number} vitestStatus vitest's exit code
 * @returns {{ line: string, details: string[], exitCode: number }}
 */
export function summarise(report, vitestStatus) {
  if (!report) {
    return {
      line: '0 passed, 1 failed',
      details: [`vitest wrote no report (exit ${vitestStatus}); see its output above`],
      exitCode: vitestStatus || 1,
    };
  }
  const details = [];
  const files = report.testResults ?? [];
  const brokenFiles = files.filter(
    (file) =>
      file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  );
  for (const file of brokenFiles) {
    details.push(`failed outside its tests: ${file.name}: ${firstLine(file.message) || 'no message'}`);
  }
  let failed = (report.numFailedTests ?? 0) + brokenFiles.length;
  if (failed === 0 && vitestStatus !== 0) {
    failed = 1;
    details.push(`vitest exited ${vitestStatus} with no failed test: an error outside any test (see above)`);
  }
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const line = `${report.numPassedTests ?? 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
  if ((report.numTotalTests ?? 0) === 0 && failed === 0) {
    details.push('no test ran');
  }
  return { line, details, exitCode: failed > 0 ? vitestStatus || 1 : vitestStatus };
}

function firstLine(text) {
  return String(text ?? '')
    .split('\n')
    .find((l) => l.trim())
    ?.trim();
}
