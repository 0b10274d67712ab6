// SPDX-License-Identifier: AGPL-3.0-or-later
// `npm run test:layers`: the layering rules of .dependency-cruiser.cjs over src/, panel/ and
// api-shim/. dependency-cruiser reads TypeScript only through the `typescript` package < 6, and
// this project builds with TypeScript 7 (native), so each .ts file is first turned into JS with
// esbuild (out/layers/, same tree). Type-only imports count as dependencies too: they are made
// plain imports before esbuild, which then keeps them (verbatimModuleSyntax).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'out', 'layers');
const DIRS = ['src', 'panel', 'api-shim'];

function* tsFiles(dir) {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

rmSync(OUT, { recursive: true, force: true });
const files = DIRS.flatMap((d) => [...tsFiles(d)]);
await Promise.all(
  files.map(async (path) => {
    const text = readFileSync(join(ROOT, path), 'utf8')
      .replace(/^(\s*)import type /gm, '$1import ')
      .replace(/^(\s*)export type \{/gm, '$1export {');
    const { code } = await transform(text, {
      loader: 'ts',
      format: 'esm',
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, experimentalDecorators: true, useDefineForClassFields: false } },
    });
    const target = join(OUT, path.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
  }),
);
// src/cli/cli.ts reads the version from package.json.
writeFileSync(join(OUT, 'package.json'), readFileSync(join(ROOT, 'package.json')));

const bin = join(ROOT, 'node_modules', '.bin', 'depcruise');
const r = spawnSync(bin, [...DIRS, '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err'], { cwd: OUT, stdio: 'inherit' });
process.exit(r.status ?? 1);
