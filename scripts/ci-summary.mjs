// SPDX-License-Identifier: AGPL-3.0-or-later
// Prints the plain closing line `N passed, N failed` from the test runners' reports: vitest's
// JSON report (out/vitest.json) plus the browser tests' counts (out/wtr.json, written by the
// counts reporter in web-test-runner.config.mjs).
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
const vitestReport = 'out/vitest.json';
if (existsSync(vitestReport)) {
  const r = JSON.parse(readFileSync(vitestReport, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  // A suite that fails to load has no tests; count it so a broken file cannot pass silently.
  for (const file of r.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
  }
  // An error outside any test (an unhandled rejection, a failing afterAll) fails the run without
  // failing a test: count it, so the closing line agrees with the exit status.
  if (r.success === false && failed === 0) {
    console.log('vitest reported an error outside the tests (see its output above)');
    failed += 1;
  }
} else {
  console.log('no vitest report found (did the typecheck fail?)');
  failed += 1;
}
const wtrReport = 'out/wtr.json';
if (existsSync(wtrReport)) {
  const w = JSON.parse(readFileSync(wtrReport, 'utf8'));
  passed += w.passed ?? 0;
  failed += w.failed ?? 0;
} else {
  // npm test runs the browser tests after vitest; no report means they did not run or crashed.
  console.log('no web-test-runner report found (browser tests did not run)');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
