// SPDX-License-Identifier: AGPL-3.0-or-later
// What `npm run build` leaves behind: esbuild names code-split chunks by content hash
// (chunk-3AWURCMB.js), so every change of the sources adds new chunk files and nothing removed the
// old ones. They are removed after the build has written its own outputs, never before: tests build
// while other tests run dist/cli.js, and a delete-then-write would pull files from under them.
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Only bundler output is ever removed: `npm run package` puts its .deb into dist/ too. */
const BUILT = /\.(?:js|mjs|css|map)$/;

/**
 * A process started on the previous build may still lazy-load one of its chunks (a command, the
 * apply engine): outputs younger than this survive one more build. Milliseconds.
 */
export const STALE_GRACE_MS = 5 * 60_000;

/**
 * Removes the bundler outputs under `dir` that this build did not write (`written`, paths as
 * esbuild's metafile lists them, relative to the working directory) and that are older than
 * `keepNewerThan` (ms since the epoch). Returns the removed paths.
 * @param {string} dir
 * @param {Iterable<string>} written
 * @param {{ keepNewerThan: number }} o
 * @returns {Promise<string[]>}
 */
export async function removeStaleOutputs(dir, written, o) {
  const keep = new Set([...written].map((p) => resolve(p)));
  const removed = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if (err.code === 'ENOENT') return removed;
    throw err;
  }
  for (const e of entries) {
    if (!e.isFile() || !BUILT.test(e.name)) continue;
    // Node 20.19: `parentPath`; `path` before it.
    const file = resolve(join(e.parentPath ?? e.path, e.name));
    if (keep.has(file)) continue;
    try {
      if ((await stat(file)).mtimeMs >= o.keepNewerThan) continue;
      await unlink(file);
      removed.push(file);
    } catch (err) {
      // Another build removed it first.
      if (err.code !== 'ENOENT') throw err;
    }
  }
  return removed;
}
