// SPDX-License-Identifier: AGPL-3.0-or-later
/** Finds the built panel (`dist/panel`) of this installation, from the bundle or from src. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `<package root>/dist/panel`, found by walking up from this module to pve-dataplane's package.json. */
export function defaultPanelDir(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'pve-dataplane') return join(dir, 'dist', 'panel');
      } catch {
        // not ours: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return join(process.cwd(), 'dist', 'panel');
    dir = up;
  }
}
