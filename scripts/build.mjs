// SPDX-License-Identifier: AGPL-3.0-or-later
// Bundles the CLI (and everything it imports from src/ and api-shim/) into dist/cli.js, the
// web panel (panel/ + the isomorphic core it uses from src/) into dist/panel/, and the script the
// PVE web UI loads (panel/pve-ui/) into dist/pve-ui/pve-dataplane-ui.js (`npm run package` ships it).
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';
import { buildPveUiBundle } from './pve-ui-bundle.mjs';

const cli = build({
  entryPoints: { cli: 'src/cli/main.ts', 'audit-worker': 'src/cli/audit-worker.ts' },
  outdir: 'dist',
  bundle: true,
  // Code-split so commands load only what they use (fastify, axios...) and start-up stays fast.
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

// The panel runs in the browser: everything (lit, axios' browser build, src/) is bundled in.
const panel = (async () => {
  await mkdir('dist/panel', { recursive: true });
  await Promise.all([
    build({
      entryPoints: { main: 'panel/main.ts' },
      outdir: 'dist/panel',
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      sourcemap: true,
      // Lit's production build (no dev-mode warnings).
      conditions: ['production'],
      logLevel: 'warning',
    }),
    copyFile('panel/index.html', 'dist/panel/index.html'),
  ]);
})();

const pveUi = buildPveUiBundle('dist/pve-ui/pve-dataplane-ui.js', { sourcemap: true });

await Promise.all([cli, panel, pveUi]);
