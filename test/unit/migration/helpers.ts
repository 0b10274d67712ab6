// SPDX-License-Identifier: AGPL-3.0-or-later
/** Builders shared by the migration unit tests: a PlanVmInput from config text. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeVm, vmInputFromFile } from '../../../src/audit/index.js';
import type { AnalysisEnv } from '../../../src/analysis/types.js';
import { parseStorageCfg, parseVmConfig } from '../../../src/pve/index.js';
import type { HaInfo, PermissionMap, PlanVmInput } from '../../../src/migration/types.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/migration');

const STORAGE = `dir: local
	path /var/lib/vz
	content images,iso,snippets

lvmthin: local-lvm
	vgname pve
	thinpool data
	content images

lvm: lvm-thick
	vgname vg0
	content images

btrfs: butter
	path /mnt/butter
	content images
`;

export function env(storageCfg = STORAGE): AnalysisEnv {
  return { storages: parseStorageCfg(storageCfg).storages, installedQemu: [11, 0, 0], installedQemuAssumed: false };
}

export interface VmOpts {
  vmid?: number;
  status?: 'running' | 'stopped';
  node?: string;
  ha?: HaInfo | null;
  permissions?: PermissionMap | null;
  storageCfg?: string;
}

/** A planner input from config file text, analysed like the audit does. */
export function vmFromText(text: string, o: VmOpts = {}): PlanVmInput {
  const vmid = o.vmid ?? 100;
  const file = parseVmConfig(text, { vmid, source: `${vmid}.conf` });
  const input = vmInputFromFile(file, o.node ?? 'pve1');
  input.runtime = { status: o.status ?? 'running' };
  const report = analyzeVm(input, env(o.storageCfg));
  return { input, report, ha: o.ha ?? null, permissions: o.permissions ?? null };
}

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** Config lines -> text (keeps tests readable). */
export function conf(...lines: string[]): string {
  return lines.join('\n') + '\n';
}
