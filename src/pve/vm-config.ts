// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The VM config file model: `/etc/pve/.../<vmid>.conf` text <-> {@link VmConfigFile}.
 * Reading: vm-config-parse.ts; writing: vm-config-print.ts; edits: vm-config-model.ts; cold-start
 * view: pending.ts. This module gathers them and adds drive access per section.
 */
import type { Drive, VmConfigFile } from './types.js';
import { parseDrive } from './drive.js';
import { findSection, type SectionRef } from './vm-config-model.js';

export { digestOf } from './digest.js';
export { parseVmConfig, type ParseVmConfigOptions } from './vm-config-parse.js';
export { printVmConfig, hasCloudinitDrive } from './vm-config-print.js';
export {
  addPendingDelete,
  cloneConfigFile,
  configValues,
  deleteConfigKey,
  emptySection,
  findSection,
  parsePendingDelete,
  printPendingDelete,
  removePendingDelete,
  setConfigValue,
  type SectionRef,
} from './vm-config-model.js';
export { applyPending, applyPendingWithWarnings, nextStartValues, type AppliedPending, type NextStart } from './pending.js';

/**
 * The drives of one section, parsed, in PVE's key order (DRIVE_KEYS), with each issue carrying
 * the file's source and the entry's line.
 */
export function sectionDrives(file: VmConfigFile, ref: SectionRef = 'main'): Drive[] {
  const section = findSection(file, ref);
  if (!section) return [];
  const drives: Drive[] = [];
  for (const [key, entry] of section.entries) {
    const drive = driveFromEntry(file, key, entry.value, entry.line);
    if (drive) drives.push(drive);
  }
  return drives.sort((a, b) => driveOrder(a.key) - driveOrder(b.key));
}

function driveFromEntry(file: VmConfigFile, key: string, value: string, line: number | undefined): Drive | null {
  if (!/^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)\d+$/.test(key)) return null;
  const drive = parseDrive(key, value, { vmid: file.vmid });
  drive.issues = drive.issues.map((i) => ({
    ...i,
    ...(file.source !== undefined ? { source: file.source } : {}),
    ...(line !== undefined ? { line } : {}),
    message: line !== undefined ? `${file.source ?? 'config'} line ${line}: ${i.message}` : i.message,
  }));
  return drive;
}

const KIND_ORDER = ['ide', 'scsi', 'virtio', 'sata', 'efidisk', 'tpmstate', 'unused'];
function driveOrder(key: string): number {
  const m = /^([a-z]+)(\d+)$/.exec(key)!;
  return KIND_ORDER.indexOf(m[1]!) * 1000 + Number(m[2]);
}
