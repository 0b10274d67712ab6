// SPDX-License-Identifier: AGPL-3.0-or-later
// Browser tests of the panel (test/panel/*.browser.test.ts) in Debian's Chromium, through
// puppeteer-core (no browser download). Versions and flags: TOOLCHAIN.md §3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher } from '@web/test-runner-chrome';

/** Writes out/wtr.json {passed, failed} for scripts/ci-summary.mjs (WTR has no JSON reporter). */
function countsReporter() {
  const count = (suite, acc) => {
    for (const t of suite.tests ?? []) {
      if (t.skipped) continue;
      if (t.passed) acc.passed++;
      else acc.failed++;
    }
    for (const s of suite.suites ?? []) count(s, acc);
    return acc;
  };
  return {
    onTestRunFinished({ sessions }) {
      const acc = { passed: 0, failed: 0 };
      for (const s of sessions) {
        if (s.testResults) count(s.testResults, acc);
        // A file that failed to load or threw outside a test has errors but maybe no tests.
        if (!s.passed && (s.errors?.length ?? 0) > 0) acc.failed++;
      }
      mkdirSync('out', { recursive: true });
      writeFileSync('out/wtr.json', `${JSON.stringify(acc)}\n`);
    },
  };
}

export default {
  files: 'test/panel/**/*.browser.test.ts',
  nodeResolve: { browser: true, exportConditions: ['browser', 'production'] },
  concurrency: 1,
  testFramework: { config: { timeout: 10000 } },
  plugins: [esbuildPlugin({ ts: true, tsconfig: 'tsconfig.json', target: 'es2022' })],
  reporters: [defaultReporter(), countsReporter()],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      },
    }),
  ],
};
