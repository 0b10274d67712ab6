// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What a cold start (API start, stop+start, API reboot) makes of a config with a `[PENDING]`
 * section: qemu-server vmconfig_apply_pending followed by write_vm_config (PVE-FACTS §4.5,
 * §9.10, §9.11). Used by the simulator and for the "after next cold start" view.
 */
import type { ConfigEntry, ConfigIssue, ConfigSection, VmConfigFile } from './types.js';
import { checkConfigValue } from './config-schema.js';
import { isValidDriveName, parseDrive, volumeOwner } from './drive.js';
import type { Drive } from './types.js';
import { byteOrder } from './property-string.js';
import { cloneConfigFile } from './vm-config-model.js';
import { digestOf } from './digest.js';
import { printVmConfig } from './vm-config-print.js';

const MAX_UNUSED = 256;

export interface AppliedPending {
  /** The config as PVE writes it after applying; `raw`/`digest` are that new text. */
  file: VmConfigFile;
  /** Changes PVE could not apply (it warns and keeps them pending), worded like its task log. */
  warnings: ConfigIssue[];
}

/**
 * The config after the next cold start. Deletions first (sorted by key): a non-forced delete of a
 * disk this VM owns turns its volume into `unusedN`, a cloud-init drive also loses
 * `[special:cloudinit]`; a forced delete (`!key`) fails and stays pending when the volume is owned
 * by this VM and still used by another drive or by a non-CD drive of a snapshot. Then pending
 * values equal to the current value are dropped and the rest are set (a replaced owned disk
 * volume becomes `unusedN` unless it is still in use). The returned file has `raw`/`digest` of
 * the text PVE writes and `issues` listing the warnings. A file without pending changes comes back
 * unchanged. Ownership needs `file.vmid` (from the file name): without it no volume counts as
 * owned, so deletes never create `unusedN` and forced deletes never fail.
 */
export function applyPending(file: VmConfigFile): VmConfigFile {
  const { file: applied, warnings } = applyPendingWithWarnings(file);
  return applied === file ? file : { ...applied, issues: warnings };
}

/** {@link applyPending} with the warnings returned separately. */
export function applyPendingWithWarnings(file: VmConfigFile): AppliedPending {
  const p = file.pending;
  if (!p || (p.entries.size === 0 && p.deletes.length === 0 && p.description === null)) return { file, warnings: [] };

  const out = cloneConfigFile(file);
  const conf = out.main;
  const pending = out.pending!;
  const vmid = out.vmid;
  const warnings: ConfigIssue[] = [];
  const warn = (key: string, message: string): void => {
    warnings.push({
      ...(file.source !== undefined ? { source: file.source } : {}),
      key,
      severity: 'warning',
      message: `unable to apply pending change ${key} : ${message}`,
    });
  };

  // 1. Deletions, sorted by key.
  for (const del of [...pending.deletes].sort((a, b) => byteOrder(a.key, b.key))) {
    const { key, force } = del;
    if (key.startsWith('unused')) {
      warn(key, 'internal error');
      continue;
    }
    if (conf.entries.has(key) && isValidDriveName(key)) {
      const drive = parseDrive(key, conf.entries.get(key)!.value, { vmid });
      if (force) {
        const reason = forcedDeleteFailure(out, key, drive);
        if (reason) {
          warn(key, reason);
          continue;
        }
      } else {
        registerUnusedDrive(out, drive);
      }
    }
    pending.deletes = pending.deletes.filter((d) => d.key !== key);
    if (key === 'description') conf.description = null;
    else conf.entries.delete(key);
  }

  // 2. cleanup_pending: drop values equal to the current one and deletes of unset keys.
  for (const [key, entry] of [...pending.entries]) {
    const current = conf.entries.get(key);
    if (current && sameValue(key, current.value, entry.value)) pending.entries.delete(key);
  }
  if (pending.description !== null && conf.description === pending.description) pending.description = null;
  pending.deletes = pending.deletes.filter((d) => (d.key === 'description' ? conf.description !== null : conf.entries.has(d.key)));

  // 3. Set the remaining pending values.
  for (const key of [...pending.entries.keys()].sort(byteOrder)) {
    const entry = pending.entries.get(key)!;
    const current = conf.entries.get(key);
    if (current && isValidDriveName(key) && !sameValue(key, current.value, entry.value)) {
      registerUnusedDrive(out, parseDrive(key, current.value, { vmid }));
    }
    const next: ConfigEntry = { key, value: entry.value };
    conf.entries.set(key, next);
    pending.entries.delete(key);
  }
  if (pending.description !== null) {
    conf.description = pending.description;
    pending.description = null;
  }
  if (pending.entries.size === 0 && pending.deletes.length === 0) out.pending = null;

  // 4. write_vm_config: an unusedN whose volume is in use again disappears.
  dropReusedUnused(out);

  const raw = printVmConfig(out);
  return { file: { ...out, raw, digest: digestOf(raw), issues: [] }, warnings };
}

/** Values as PVE holds them after reading (booleans normalised; drive strings verbatim). */
function sameValue(key: string, a: string, b: string): boolean {
  return checkConfigValue(key, a).value === checkConfigValue(key, b).value;
}

/** try_deallocate_drive's refusal, or null when the forced delete goes through. */
function forcedDeleteFailure(file: VmConfigFile, key: string, drive: Drive): string | null {
  // drive_is_cdrom($drive, 1): a cloud-init drive counts as a disk here.
  if (drive.isCdrom && !drive.isCloudinit) return null;
  const volid = drive.file;
  if (file.vmid === null || volumeOwner(volid) !== file.vmid) return null;
  const usedElsewhere =
    drivesOf(file.main, file.vmid).some((d) => d.key !== key && d.file === volid) ||
    file.snapshots.some((s) => drivesOf(s, file.vmid).some((d) => !d.isCdrom && d.file === volid));
  return usedElsewhere ? `unable to delete '${volid}' - volume is still in use (snapshot?)` : null;
}

function drivesOf(section: ConfigSection, vmid: number | null): Drive[] {
  const out: Drive[] = [];
  for (const [key, entry] of section.entries) {
    if (!isValidDriveName(key)) continue;
    const drive = parseDrive(key, entry.value, { vmid });
    if (!drive.issues.some((i) => i.severity === 'error')) out.push(drive);
  }
  return out;
}

/** vmconfig_register_unused_drive: keep an owned disk volume as `unusedN` (lowest free N). */
function registerUnusedDrive(file: VmConfigFile, drive: Drive): void {
  if (drive.isCloudinit) {
    file.special = file.special.filter((s) => s.name !== 'special:cloudinit');
    return;
  }
  if (drive.isCdrom) return;
  const volid = drive.file;
  if (file.vmid === null || volumeOwner(volid) !== file.vmid) return;
  let free: string | null = null;
  for (let i = MAX_UNUSED - 1; i >= 0; i--) {
    const existing = file.main.entries.get(`unused${i}`);
    if (existing) {
      if (existing.value === volid) return;
    } else {
      free = `unused${i}`;
    }
  }
  if (free) file.main.entries.set(free, { key: free, value: volid });
}

function dropReusedUnused(file: VmConfigFile): void {
  const used = new Set<string>();
  for (const section of [file.main, file.pending]) {
    if (section) for (const d of drivesOf(section, file.vmid)) if (d.file !== '') used.add(d.file);
  }
  for (const [key, entry] of [...file.main.entries]) {
    if (key.startsWith('unused') && used.has(entry.value)) file.main.entries.delete(key);
  }
}
