// SPDX-License-Identifier: AGPL-3.0-or-later
// Browser tests of the panel (test/panel/*.browser.test.ts) in Debian's Chromium, through
// puppeteer-core (no browser download). Versions and flags: TOOLCHAIN.md §3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher } from '@web/test-runner-chrome';
import { forwardApi2, spawnSimulator } from './scripts/dev-server.mjs';

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

/**
 * Same-origin `/api2/` for the PVE-UI tests (test/pve-ui): proxied to a simulator (`pve-dataplane
 * simulate --http`, started on the first request, stopped with the server), as pveproxy serves the
 * API beside the web UI. Cookies and the CSRFPreventionToken header pass through
 * (scripts/dev-server.mjs, the same forwarding as the e2e page server and scripts/pve-gui.mjs).
 */
function pveApiProxy() {
  let sim = null;
  const upstream = () => (sim ??= spawnSimulator(['--vms', '12', '--nodes', '2', '--seed', '11'])).url;
  process.once('exit', () => sim?.stop());
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/api2/')) return next();
    const up = await forwardApi2(await upstream(), ctx.req);
    ctx.status = up.status;
    ctx.message = up.statusText;
    ctx.set('content-type', up.type);
    ctx.body = up.body;
  };
}

/**
 * Classic scripts served untouched at `/raw/<file>.classic` (the esbuild plugin would rewrite any
 * `.js` into module-style code, where ExtJS's top-level `this` is undefined): npm's ExtJS and the
 * stand-in PVE classes of test/pve-ui/fixtures.
 */
function rawClassicScripts() {
  const roots = { 'ext-all': 'node_modules/extjs-gpl/build/ext-all.js', 'pve-standin': 'test/pve-ui/fixtures/pve-standin.js' };
  return async (ctx, next) => {
    const m = /^\/raw\/([a-z-]+)\.classic$/.exec(ctx.path);
    if (!m || !roots[m[1]]) return next();
    ctx.type = 'application/javascript';
    ctx.body = await readFile(roots[m[1]]);
  };
}

export default {
  files: ['test/panel/**/*.browser.test.ts', 'test/pve-ui/**/*.browser.test.ts'],
  middleware: [rawClassicScripts(), pveApiProxy()],
  nodeResolve: { browser: true, exportConditions: ['browser', 'production'] },
  // One browser page at a time, and ceilings a loaded 2-core CI machine stays under (a passing
  // test ends when its conditions hold; these only bound a hung one): Chromium's start, a test
  // file's first module graph through esbuild, and a test's own deadline (conditions inside get
  // 10 s each, test/panel/wait-until.ts).
  concurrency: 1,
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testsFinishTimeout: 300_000,
  testFramework: { config: { timeout: 30_000 } },
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
