#!/usr/bin/env node
// SPDX-License-Identifier: AGPL-3.0-or-later
// Entry point of the installed binary: runs the bundled CLI (built by `npm run build`, also on
// `npm install` through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('pve-dataplane: dist/cli.js is missing; run `npm install` (or `npm run build`) in the project folder first.\n');
  process.exit(2);
}
await import(bundle.href);
