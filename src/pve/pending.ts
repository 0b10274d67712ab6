// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What a cold start (API start, stop+start, API reboot) makes of a config with a `[PENDING]`
 * section: qemu-server QemuServer.pm `vmconfig_apply_pending` on the config as `parse_vm_config`
 * read it, followed by `write_config` (see docs/how-qemu-server-decides.md, "Pending changes").
 * The one implementation: the simulator runs it on the file, the audit's "after the next cold
 * start" view on the values it read ({@link nextStartValues}).
 */
import type { ConfigEntry, ConfigIssue, ConfigSection, PendingDelete, VmConfigFile } from './types.js';
import { checkConfigValue, droppedOnRead } from './config-schema.js';
import { isValidDriveName, parseDrive, volumeOwner } from './drive.js';
import { parseDriveKey } from './drive-keys.js';
import type { Drive } from './types.js';
import { byteOrder } from './property-string.js';
import { cloneConfigFile, configValues, emptySection } from './vm-config-model.js';
import { digestOf } from './digest.js';
import { printVmConfig } from './vm-config-print.js';

const MAX_UNUSED = 256;

export interface AppliedPending {
  /** The config as PVE writes it after applying; `raw`/`digest` are that new text. */
  file: VmConfigFile;
  /** Changes PVE could not apply (it warns and keeps them pending), worded like its task log. */
  warnings: ConfigIssue[];
  /** The keys of those changes with PVE's reason (`unable to delete '…' - volume is still in use (snapshot?)`). */
  failed: { key: string; reason: string }[];
  /** Lines parse_vm_config dropped on reading (they are not written back), with its reason. */
  dropped: { key: string; reason: string }[];
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
  const applied = applyPendingModel(file);
  if (applied.file === file) return applied;
  const raw = printVmConfig(applied.file);
  return { ...applied, file: { ...applied.file, raw, digest: digestOf(raw), issues: [] } };
}

function hasPending(file: VmConfigFile): boolean {
  const p = file.pending;
  return p !== null && (p.entries.size > 0 || p.deletes.length > 0 || p.description !== null);
}

/**
 * vmconfig_apply_pending on the model; `raw`/`digest` still describe the text that was read (the
 * caller prints it when it needs the new text).
 */
function applyPendingModel(file: VmConfigFile): AppliedPending {
  if (!hasPending(file)) return { file, warnings: [], failed: [], dropped: [] };

  const out = cloneConfigFile(file);
  const conf = out.main;
  const pending = out.pending!;
  const vmid = out.vmid;
  const warnings: ConfigIssue[] = [];
  const failed: AppliedPending['failed'] = [];
  const warn = (key: string, message: string): void => {
    failed.push({ key, reason: message });
    warnings.push({
      ...(file.source !== undefined ? { source: file.source } : {}),
      key,
      severity: 'warning',
      message: `unable to apply pending change ${key} : ${message}`,
    });
  };

  // 0. parse_vm_config: a line whose value PVE cannot read is not in the config it applies to, so
  // the write at the end loses it for good.
  const dropped: AppliedPending['dropped'] = [];
  for (const section of [conf, pending]) {
    for (const [key, entry] of [...section.entries]) {
      const reason = droppedOnRead(key, entry.value);
      if (reason === null) continue;
      section.entries.delete(key);
      if (section === conf) dropped.push({ key, reason });
    }
  }

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

  return { file: out, warnings, failed, dropped };
}

/** The config values of the next cold start, for callers that hold values rather than the file. */
export interface NextStart {
  /** Main-section values after the next cold start. */
  config: Record<string, string>;
  /** Changes that fail at that start (a forced delete of a disk still in use): the disk stays, the change stays pending. */
  failedDeletes: { key: string; reason: string }[];
  /** Lines PVE cannot read: the start runs without them and the config written then loses them. */
  dropped: { key: string; reason: string }[];
}

function sectionOf(kind: 'main' | 'pending' | 'snapshot', name: string, values: Record<string, string>, deletes: PendingDelete[] = []): ConfigSection {
  const section = emptySection(kind, name);
  for (const [key, value] of Object.entries(values)) {
    if (key === 'description') section.description = value;
    else section.entries.set(key, { key, value });
  }
  section.deletes = deletes.map((d) => ({ ...d }));
  return section;
}

/**
 * {@link applyPending} on values as the audit holds them (the file's sections, or the API's
 * `GET …/pending`): `current` main values, `pending` values, the pending `deletes`, and the
 * snapshots' values (needed for the forced-delete rule; may be empty online).
 */
export function nextStartValues(
  vmid: number,
  current: Record<string, string>,
  pending: Record<string, string>,
  deletes: PendingDelete[],
  snapshots: Record<string, string>[] = [],
): NextStart {
  const file: VmConfigFile = {
    vmid,
    raw: '',
    digest: '',
    main: sectionOf('main', '', current),
    pending: sectionOf('pending', 'PENDING', pending, deletes),
    special: [],
    snapshots: snapshots.map((s, i) => sectionOf('snapshot', `snapshot${i}`, s)),
    issues: [],
  };
  const applied = applyPendingModel(file);
  const failedDeletes = applied.failed
    .filter((f) => deletes.some((d) => d.key === f.key && d.force))
    .map((f) => ({ key: f.key, reason: `${f.reason}: the forced delete of ${f.key} fails at the next start and stays pending` }));
  return { config: configValues(applied.file.main), failedDeletes, dropped: applied.dropped };
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
  const taken = new Set<number>();
  for (const [key, entry] of file.main.entries) {
    const k = parseDriveKey(key);
    if (k?.kind !== 'unused') continue;
    if (entry.value === volid) return;
    taken.add(k.index);
  }
  let free = 0;
  while (taken.has(free)) free++;
  if (free < MAX_UNUSED) file.main.entries.set(`unused${free}`, { key: `unused${free}`, value: volid });
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
