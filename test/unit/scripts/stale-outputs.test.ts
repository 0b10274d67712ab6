// SPDX-License-Identifier: AGPL-3.0-or-later
/** `npm run build` removes the chunks earlier builds left in dist/, and only those. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { STALE_GRACE_MS, removeStaleOutputs } from '../../../scripts/stale-outputs.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HOUR_AGO = (Date.now() - 3_600_000) / 1000;

/** Writes `file` with an mtime an hour ago (an earlier build's output). */
function oldFile(file: string): string {
  writeFileSync(file, '// old\n');
  utimesSync(file, HOUR_AGO, HOUR_AGO);
  return file;
}

describe('removeStaleOutputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dp-dist-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('removes old outputs this build did not write, in subdirectories too; keeps the rest', async () => {
    mkdirSync(join(dir, 'panel'));
    const written = [oldFile(join(dir, 'cli.js')), oldFile(join(dir, 'chunk-NEW.js'))];
    const stale = [oldFile(join(dir, 'chunk-OLD.js')), oldFile(join(dir, 'chunk-OLD.js.map')), oldFile(join(dir, 'panel', 'old.js'))];
    const deb = oldFile(join(dir, 'pve-dataplane_0.1.0_all.deb'));
    // A concurrent build's (or a minute-old build's) chunk: a running CLI may still load it.
    const recent = join(dir, 'chunk-RECENT.js');
    writeFileSync(recent, '// recent\n');
    const removed = await removeStaleOutputs(dir, written, { keepNewerThan: Date.now() - STALE_GRACE_MS });
    expect(removed.sort()).toEqual(stale.sort());
    for (const f of stale) expect(existsSync(f)).toBe(false);
    for (const f of [...written, deb, recent]) expect(existsSync(f)).toBe(true);
  });

  it('does nothing when the directory does not exist yet', async () => {
    expect(await removeStaleOutputs(join(dir, 'none'), [], { keepNewerThan: Date.now() })).toEqual([]);
  });
});

describe('npm run build', () => {
  const chunk = join(ROOT, 'dist', 'chunk-STALETEST.js');
  const deb = join(ROOT, 'dist', 'pve-dataplane_0.0.0-staletest_all.deb');
  afterAll(() => rmSync(deb, { force: true }));

  it('leaves no chunk of an earlier build behind, keeps a built package, and the CLI still runs', () => {
    mkdirSync(join(ROOT, 'dist'), { recursive: true });
    oldFile(chunk);
    oldFile(`${chunk}.map`);
    oldFile(deb);
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
    expect(existsSync(chunk)).toBe(false);
    expect(existsSync(`${chunk}.map`)).toBe(false);
    expect(existsSync(deb)).toBe(true);
    const r = spawnSync(process.execPath, ['bin/pve-dataplane.js', 'audit', '--config-dir', 'examples/etc-pve'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^VM 100 db1/m);
  });
});
