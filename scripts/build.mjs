// SPDX-License-Identifier: AGPL-3.0-or-later
// Bundles the CLI (and everything it imports from src/ and api-shim/) into dist/cli.js.
// Dependencies stay external: they are resolved from node_modules at run time.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli/main.ts' },
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
