// SPDX-License-Identifier: AGPL-3.0-or-later
/** Temporary /etc/pve-like trees for the CLI and reader tests. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (path → text; a value `{ symlink: target }` makes a symlink) under a new temp dir. */
export function makeTree(files: Record<string, string | { symlink: string }>): string {
  const root = mkdtempSync(join(tmpdir(), 'dp-tree-'));
  made.push(root);
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof content === 'string') writeFileSync(full, content);
    else symlinkSync(content.symlink, full);
  }
  return root;
}

export const STORAGE_CFG = `dir: local
	path /var/lib/vz
	content iso,images

lvmthin: local-lvm
	thinpool data
	vgname pve
	content images

lvm: san
	vgname san
	content images
`;

/** A minimal valid VM config with one disk line per entry of `disks`. */
export function conf(name: string, disks: string[], extra: string[] = []): string {
  return [`name: ${name}`, 'memory: 2048', ...disks, ...extra].join('\n') + '\n';
}
