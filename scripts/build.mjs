// SPDX-License-Identifier: AGPL-3.0-or-later
// Bundles the CLI (and everything it imports from src/ and api-shim/) into dist/cli.js, the
// web panel (panel/ + the isomorphic core it uses from src/) into dist/panel/, and the script the
// PVE web UI loads (panel/pve-ui/) into dist/pve-ui/pve-dataplane-ui.js (`npm run package` ships it).
// Then removes what earlier builds left there (scripts/stale-outputs.mjs).
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';
import { buildPveUiBundle } from './pve-ui-bundle.mjs';
import { STALE_GRACE_MS, removeStaleOutputs } from './stale-outputs.mjs';

const started = Date.now();

/**
 * Packages bundled into the CLI rather than loaded from node_modules at run time: commander, which
 * every command loads at start-up (as CommonJS from ESM: the module resolution, the CJS loader and
 * the export scan of each of its files), and @noble/hashes, which the config parser imports (src/pve
 * digest.ts): as an external package every audit resolved its `exports` map and loaded five files.
 * The rest stay external, loaded by the commands that use them.
 */
const BUNDLED = new Set(['commander', '@noble/hashes']);

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** esbuild's `packages: 'external'`, but for the BUNDLED packages. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.has(packageOf(args.path)) || args.kind === 'entry-point' ? undefined : { external: true }));
  },
};

const cli = build({
  entryPoints: { cli: 'src/cli/main.ts', 'audit-worker': 'src/cli/audit-worker.ts' },
  outdir: 'dist',
  bundle: true,
  // Code-split so commands load only what they use (fastify, axios...) and start-up stays fast.
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [externalPackages],
  // A bundled CommonJS package requires node's modules (commander: node:events, node:fs...); an
  // ES module has no `require` of its own.
  banner: { js: "import { createRequire as __cliCreateRequire } from 'node:module'; const require = __cliCreateRequire(import.meta.url);" },
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});

// The panel runs in the browser: everything (lit, axios' browser build, src/) is bundled in.
const panel = (async () => {
  await mkdir('dist/panel', { recursive: true });
  const [result] = await Promise.all([
    build({
      // The fleet audit's worker beside the page's bundle (panel/dp-app.ts starts it by that name).
      entryPoints: { main: 'panel/main.ts', 'fleet-audit-worker': 'panel/data/fleet-audit-worker.ts' },
      outdir: 'dist/panel',
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      sourcemap: true,
      // Lit's production build (no dev-mode warnings).
      conditions: ['production'],
      metafile: true,
      logLevel: 'warning',
    }),
    copyFile('panel/index.html', 'dist/panel/index.html'),
  ]);
  return result;
})();

const PVE_UI = 'dist/pve-ui/pve-dataplane-ui.js';
const pveUi = buildPveUiBundle(PVE_UI, { sourcemap: true });

const [cliResult, panelResult] = await Promise.all([cli, panel, pveUi]);
const written = [...Object.keys(cliResult.metafile.outputs), ...Object.keys(panelResult.metafile.outputs), 'dist/panel/index.html', PVE_UI, `${PVE_UI}.map`];
await removeStaleOutputs('dist', written, { keepNewerThan: started - STALE_GRACE_MS });
