// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A PVE-like web UI for the end-to-end tests and the README screenshots: one origin serving npm's
 * ExtJS 6.2 GPL, the stand-in PVE config panels (test/pve-ui/fixtures/pve-standin.js), the built
 * pve-dataplane-ui.js at `/pve2/js/` (where the installed line loads it from), and `/api2/` from a
 * simulator, as pveproxy serves the API beside its UI (cookie and CSRFPreventionToken pass).
 * Served by scripts/dev-server.mjs, as scripts/pve-gui.mjs and the PVE-UI browser tests are.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../../api-shim/simulator/index.js';
import { createPageServer } from '../../../scripts/dev-server.mjs';

export interface PveUiPage {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  sim: RunningSimulator;
  close(): Promise<void>;
}

const EXT = 'node_modules/extjs-gpl/build';
const THEME = `${EXT}/classic/theme-crisp/resources`;

/** The page: ExtJS, the stand-in (as pvemanagerlib.js), then the bundle, as index.html.tpl orders them. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>pve-dataplane in a PVE-like UI</title>
<link rel="stylesheet" href="/ext/theme/theme-crisp-all-debug.css">
<style>html,body{margin:0;height:100%;font:13px helvetica,arial,sans-serif}</style>
<script src="/ext/ext-all.js"></script>
<script src="/pve2/js/pvemanagerlib.js"></script>
<script src="/pve2/js/pve-dataplane-ui.js"></script>
<script>
// PVE's login window: the ticket into the PVEAuthCookie, the CSRF token into Proxmox.
async function dpLogin(username, password) {
  const res = await fetch('/api2/json/access/ticket', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }) });
  if (!res.ok) throw new Error('login ' + username + ': ' + res.status);
  const { data } = await res.json();
  document.cookie = 'PVEAuthCookie=' + encodeURIComponent(data.ticket) + '; path=/; SameSite=Lax';
  window.Proxmox = { Setup: { auth_cookie_name: 'PVEAuthCookie' }, UserName: username, CSRFPreventionToken: data.CSRFPreventionToken };
}
// PVE's workspace opening the config panel of a tree selection (Workspace.js selectById).
function dpOpen(cls, data, tab) {
  const p = Ext.create(cls, { renderTo: document.body, width: window.innerWidth, height: window.innerHeight, pveSelNode: { data }, workspace: null });
  if (tab) p.selectById(tab);
  return p;
}
</script></head><body></body></html>`;

/** Starts the simulator, builds the bundle and serves the page; `close` stops both. */
export async function startPveUiPage(sim: SimulatorOptions = {}): Promise<PveUiPage> {
  const outDir = 'out/pve-ui-e2e';
  mkdirSync(outDir, { recursive: true });
  // scripts/pve-ui-bundle.mjs is plain JS: imported by path so the typecheck does not need a declaration.
  const bundler = '../../../scripts/pve-ui-bundle.mjs';
  const { buildPveUiBundle } = (await import(bundler)) as { buildPveUiBundle: (out: string, o?: { minify?: boolean }) => Promise<unknown> };
  const bundle = join(outDir, 'pve-dataplane-ui.js');
  await buildPveUiBundle(bundle, { minify: false });
  const simulator = await startSimulator({ http: true, authDelayMs: 0, ...sim });
  const server = createPageServer({
    page: PAGE,
    api2: () => simulator.url,
    routes: [
      ['/ext/ext-all.js', `${EXT}/ext-all.js`],
      ['/pve2/js/pvemanagerlib.js', 'test/pve-ui/fixtures/pve-standin.js'],
      ['/pve2/js/pve-dataplane-ui.js', bundle],
      ['/ext/theme/', `${THEME}/`],
    ],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    sim: simulator,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await simulator.state.settle();
      await simulator.close();
    },
  };
}

/** Debian's Chromium, headless, as the e2e tests run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * The PVE-like page over a simulator and one Chromium for a whole test file: started in
 * beforeAll, closed in afterAll.
 */
export function pveUiForFile(opts: Parameters<typeof startPveUiPage>[0]): { ui: PveUiPage; browser: Browser } {
  const env = {} as { ui: PveUiPage; browser: Browser };
  beforeAll(async () => {
    env.ui = await startPveUiPage(opts);
    env.browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await env.browser?.close();
    await env.ui?.close();
  });
  return env;
}
