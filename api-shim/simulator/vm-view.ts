// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * How the API shows a VM config (qemu-server vm_config / vm_pending, pve-guest-common
 * load_current_config / config_with_pending_array; docs/how-qemu-server-decides.md#api).
 */
import {
  canonicalDriveString,
  configValues,
  isValidDriveName,
  parseDrive,
  type ConfigSection,
  type VmConfigFile,
} from '../../src/pve/index.js';
import { dieError, paramError } from './errors.js';
import { endpointParams, lookupProperty } from './schema/validate.js';

const CONFIG_SCHEMA = endpointParams('POST', '/nodes/{node}/qemu/{vmid}/config')!;

/** Keys only found in files (not settable through the API) and how check_type reads them. */
const FILE_ONLY_TYPES: Record<string, string> = { snaptime: 'integer', vmstate: 'string', meta: 'string', parent: 'string', digest: 'string' };

/**
 * JSON type of a config value as PVE's Perl encodes it: qemu-server check_type returns booleans
 * and integers as numbers (`"numa":0`, `"cores":1`), everything else as the string it read
 * (`"memory":"2048"` since the 8.1 property-string change, `cpulimit` too).
 */
export function typedConfigValue(key: string, value: string): string | number {
  const type = FILE_ONLY_TYPES[key] ?? lookupProperty(CONFIG_SCHEMA, key)?.type;
  if ((type === 'boolean' || type === 'integer') && /^-?\d+$/.test(value)) return Number(value);
  return value;
}

function typed(values: Record<string, string>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(values)) out[k] = typedConfigValue(k, v);
  return out;
}

/** Drive strings as the API prints them (file first, sorted sub-keys, booleans 1/0; NOTES item 25). */
function canonicalDrives(values: Record<string, string>, vmid: number): void {
  for (const [k, v] of Object.entries(values)) {
    if (!isValidDriveName(k)) continue;
    const drive = parseDrive(k, v, { vmid });
    // A value PVE cannot parse is returned as stored.
    if (drive.issues.every((i) => i.severity !== 'error')) values[k] = canonicalDriveString(drive);
  }
}

/** Main-section values with the pending ones applied and pending deletions removed (current=0). */
export function pendingAppliedValues(file: VmConfigFile): Record<string, string> {
  const values = configValues(file.main);
  if (file.pending) {
    Object.assign(values, configValues(file.pending));
    for (const d of file.pending.deletes) delete values[d.key];
  }
  return values;
}

/** `GET /nodes/{n}/qemu/{id}/config[?current=1|snapshot=NAME]`. */
export function configView(
  file: VmConfigFile,
  vmid: number,
  opts: { current?: boolean; snapshot?: string },
): Record<string, string | number> {
  if (opts.snapshot && opts.current) {
    const msg = "cannot use 'snapshot' parameter with 'current'";
    throw paramError({ snapshot: msg, current: msg });
  }
  let values: Record<string, string>;
  if (opts.snapshot) {
    const snap = file.snapshots.find((s) => s.name === opts.snapshot);
    if (!snap) throw dieError(`snapshot '${opts.snapshot}' does not exist`);
    values = configValues(snap);
  } else {
    values = opts.current ? configValues(file.main) : pendingAppliedValues(file);
  }
  canonicalDrives(values, vmid);
  if (values.cipassword) values.cipassword = '**********';
  values.digest = file.digest;
  return typed(values);
}

function sectionValues(section: ConfigSection | null): Record<string, string> {
  return section ? configValues(section) : {};
}

/** pendingView of each parsed config (a write parses a new one): /pending is read once per VM per audit. */
const pendingViews = new WeakMap<VmConfigFile, ReadonlyArray<Readonly<Record<string, string | number>>>>();

/**
 * `GET /nodes/{n}/qemu/{id}/pending`: every key of the main section (including `digest`) with its
 * value, its pending value and `delete` (1, or 2 when forced), then the keys only pending, then
 * pending deletions of keys that are not set. The last group always says `delete: 2` - the
 * pve-guest-common quirk of testing a hash reference for truth (docs/how-qemu-server-decides.md#api).
 * The same (frozen) list for the same parsed config.
 */
export function pendingView(file: VmConfigFile): ReadonlyArray<Readonly<Record<string, string | number>>> {
  let view = pendingViews.get(file);
  if (!view) pendingViews.set(file, (view = Object.freeze(buildPendingView(file).map((item) => Object.freeze(item)))));
  return view;
}

function buildPendingView(file: VmConfigFile): Array<Record<string, string | number>> {
  const main = sectionValues(file.main);
  main.digest = file.digest;
  const pending = sectionValues(file.pending);
  const deletes = new Map((file.pending?.deletes ?? []).map((d) => [d.key, d.force]));
  if (main.cipassword !== undefined) main.cipassword = '**********';
  // qemu-server masks the pending password with a trailing space.
  if (pending.cipassword !== undefined) pending.cipassword = '********** ';
  const out: Array<Record<string, string | number>> = [];
  for (const [key, value] of Object.entries(main)) {
    const item: Record<string, string | number> = { key, value: typedConfigValue(key, value) };
    if (pending[key] !== undefined) item.pending = typedConfigValue(key, pending[key]);
    if (deletes.has(key)) item.delete = deletes.get(key) ? 2 : 1;
    out.push(item);
  }
  for (const [key, value] of Object.entries(pending)) {
    if (main[key] !== undefined) continue;
    out.push({ key, pending: typedConfigValue(key, value) });
  }
  // Perl truth tests: a value of '' or '0' does not count as set here.
  const perlTrue = (v: string | undefined) => v !== undefined && v !== '' && v !== '0';
  for (const key of deletes.keys()) {
    if (perlTrue(pending[key]) || perlTrue(main[key])) continue;
    out.push({ key, delete: 2 });
  }
  return out;
}
