// SPDX-License-Identifier: AGPL-3.0-or-later
// The bundle the PVE web UI loads (panel/pve-ui/main.ts -> pve-dataplane-ui.js): one classic script
// (index.html.tpl loads it with a plain <script src>), so IIFE, with lit and the core inside.
import { build } from 'esbuild';

/**
 * Builds the PVE-UI bundle to `outfile`.
 * @param {string} outfile
 * @param {{ minify?: boolean, sourcemap?: boolean }} [o]
 */
export function buildPveUiBundle(outfile, o = {}) {
  return build({
    entryPoints: ['panel/pve-ui/main.ts'],
    outfile,
    bundle: true,
    platform: 'browser',
    // IIFE, not ESM: a module would be strict, and the page loads it as a classic script after
    // pvemanagerlib.js, before Ext.onReady builds the workspace (the override must be in by then).
    format: 'iife',
    target: 'es2022',
    minify: o.minify ?? true,
    sourcemap: o.sourcemap ?? false,
    conditions: ['production'],
    legalComments: 'none',
    // tsconfig's `strict` implies alwaysStrict, which would put "use strict" at the top of the
    // IIFE: keep the rest of tsconfig's TS semantics, drop only that (see the NOTE in glue.ts).
    tsconfigRaw: { compilerOptions: { alwaysStrict: false, experimentalDecorators: true, useDefineForClassFields: false, verbatimModuleSyntax: true } },
    logLevel: 'warning',
  });
}
