// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Writing a VM config file exactly like qemu-server write_vm_config (docs/how-qemu-server-decides.md#reading-the-config "write
 * order"), so that for any file PVE wrote itself `printVmConfig(parseVmConfig(x)) === x`.
 */
import type { ConfigSection, VmConfigFile } from './types.js';
import { checkConfigValue } from './config-schema.js';
import { isValidDriveName, parseDrive } from './drive.js';
import { byteOrder } from './property-string.js';
import { encodeDescriptionLine } from './text-codec.js';
import { printPendingDelete } from './vm-config-model.js';

/** Keys write_vm_config never writes as `key: value` lines. */
const NOT_WRITTEN = new Set(['digest', 'description', 'pending', 'cloudinit', 'snapshots', 'delete']);

/**
 * PVE's write_vm_config. Per section: the description as `#` lines (encode_text), then the keys
 * sorted (byte order) as `key: value`, values as PVE holds them (booleans 1/0 ...; drive strings
 * verbatim), `delete:` of [PENDING] printed sorted and comma-joined in its sorted place. Sections:
 * main, `[PENDING]` (when not empty), `[special:*]` sorted (`[special:cloudinit]` only while a
 * cloud-init drive exists), snapshots sorted, each after one empty line. Like PVE it also: writes
 * `cdrom` as `ide2`, turns a legacy `smp` into `sockets`, drops `snapstate` and `digest` from the
 * main section, and drops `unusedN` entries whose volume is in use again.
 *
 * Differences from PVE, on purpose: keys PVE would drop on read (unknown, invalid value) are
 * written back as they are, and unknown sections are not written (PVE ignores them too).
 */
export function printVmConfig(file: VmConfigFile): string {
  let raw = generateSection(prepareMain(file), false, true);
  const pending = file.pending;
  if (pending && (hasWritableKeys(pending) || pending.deletes.length > 0 || pending.description !== null)) {
    raw += '\n[PENDING]\n' + generateSection(pending, true, true);
  }
  for (const s of [...file.special].sort((a, b) => byteOrder(a.name, b.name))) {
    if (!hasWritableKeys(s) && s.description === null) continue;
    if (s.name === 'special:cloudinit' && !hasCloudinitDrive(file)) continue;
    raw += `\n[${s.name}]\n` + generateSection(s, false, false);
  }
  for (const s of [...file.snapshots].sort((a, b) => byteOrder(a.name, b.name))) {
    raw += `\n[${s.name}]\n` + generateSection(s, false, true);
  }
  return raw;
}

function hasWritableKeys(section: ConfigSection): boolean {
  for (const key of section.entries.keys()) if (!NOT_WRITTEN.has(key)) return true;
  return false;
}

/** The main section as write_vm_config changes it before writing. */
function prepareMain(file: VmConfigFile): ConfigSection {
  const entries = new Map(file.main.entries);
  entries.delete('snapstate');
  const cdrom = entries.get('cdrom');
  if (cdrom) {
    entries.delete('cdrom');
    if (!entries.has('ide2')) entries.set('ide2', { ...cdrom, key: 'ide2' });
  }
  if (entries.has('sockets')) {
    entries.delete('smp');
  } else {
    const smp = entries.get('smp');
    if (smp) {
      entries.set('sockets', { ...smp, key: 'sockets' });
      entries.delete('cores');
      entries.delete('smp');
    }
  }
  // "remove 'unusedX' settings if we re-add a volume": volumes of main and pending drives.
  const used = new Set<string>();
  for (const section of [file.main, file.pending]) {
    for (const [key, entry] of section?.entries ?? []) {
      if (!isValidDriveName(key)) continue;
      const drive = parseDrive(key, entry.value, { vmid: file.vmid });
      if (drive.file !== '' && !drive.issues.some((i) => i.severity === 'error')) used.add(drive.file);
    }
  }
  for (const [key, entry] of [...entries]) {
    if (key.startsWith('unused') && used.has(entry.value)) entries.delete(key);
  }
  return { ...file.main, entries };
}

function generateSection(section: ConfigSection, pending: boolean, checked: boolean): string {
  let raw = '';
  // PVE trims trailing whitespace off a description when it reads the file back (`s/\s+$//`), so a
  // whitespace-only one (`description:    `, `\r`) would come back empty: print what it reads
  // back, so printing is idempotent (print(parse(print(x))) === print(x)).
  const descr = section.description === null ? null : section.description.replace(/[ \t\n\r\f\v]+$/, '');
  if (descr !== null) {
    // Perl truthiness: '' and '0' write no description lines (an empty pending one writes '#').
    if (descr !== '' && descr !== '0') {
      for (const line of perlSplitLines(descr)) raw += `#${encodeDescriptionLine(line)}\n`;
    } else if (pending) {
      raw += '#\n';
    }
  }
  const values = new Map<string, string>();
  for (const [key, entry] of section.entries) {
    if (NOT_WRITTEN.has(key)) continue;
    values.set(key, checked ? checkConfigValue(key, entry.value).value : entry.value);
  }
  if (pending && section.deletes.length > 0) values.set('delete', printPendingDelete(section.deletes));
  for (const key of [...values.keys()].sort(byteOrder)) raw += `${key}: ${values.get(key)}\n`;
  return raw;
}

/** Perl split(/\n/, $s): trailing empty fields removed, leading and inner ones kept. */
function perlSplitLines(text: string): string[] {
  const parts = text.split('\n');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** PVE has_cloudinit: a drive of the main section is a cloud-init drive. */
export function hasCloudinitDrive(file: VmConfigFile): boolean {
  for (const [key, entry] of file.main.entries) {
    if (!isValidDriveName(key)) continue;
    const drive = parseDrive(key, entry.value, { vmid: file.vmid });
    if (drive.isCloudinit && !drive.issues.some((i) => i.severity === 'error')) return true;
  }
  return false;
}

