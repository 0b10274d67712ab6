// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Drive keys (`scsi0`, `efidisk0`, `unused3` ...) and drive values, as qemu-server Drive.pm reads
 * them (docs/how-qemu-server-decides.md#drive-keys). {@link parseDrive} never throws: whatever PVE would
 * refuse is listed in `drive.issues`, and the value prints back exactly with {@link printDrive}.
 */
import type { ConfigIssue, Drive, DriveKeyKind, PropertyString } from './types.js';
import { parseDriveKey } from './drive-keys.js';
import {
  canonicalPropertyString,
  getPart,
  parsePveBoolean,
  printPropertyString,
  removePart,
  scanPropertyString,
  setDefaultPart,
  setPart,
} from './property-string.js';
import { ALL_DRIVE_FORMAT, LEGACY_GEOMETRY_KEYS, driveFormat } from './drive-formats.js';

export { driveFormat } from './drive-formats.js';

export {
  DRIVE_KEYS,
  DRIVE_KEY_COUNTS,
  compareDriveKeys,
  freeDriveKey,
  isDriveKey,
  isValidDriveName,
  parseDriveKey,
} from './drive-keys.js';

/** PVE's boolean reading (`1/on/yes/true`, any case). `undefined` and anything else are false. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && parsePveBoolean(value) === true;
}

/** The volume (`file`, also written `volume=` or as the bare first part) of a drive string; '' when none. */
export function driveVolume(value: string): string {
  return getPart(scanPropertyString(value, ALL_DRIVE_FORMAT).ps, 'file') ?? '';
}

/** The option value as written (canonical key, e.g. `file` also for `volume=`), or undefined. */
export function driveOption(drive: Drive, key: string): string | undefined {
  return getPart(drive.options, key);
}

export interface ParseDriveOptions {
  /** The VM id; makes the cloud-init check require `vm-<vmid>-cloudinit` (docs/how-qemu-server-decides.md#drive-keys). */
  vmid?: number | null;
  /** Accept the API's allocation-only `import-from` option. */
  alloc?: boolean;
}

const VOLUME_ID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/is;
const QEMU_FORMAT = '(?:raw|cow|qcow|qed|qcow2|vmdk|cloop)';

/** Storage id of a `STORAGE:VOLNAME` volume id, else null (`none`, `cdrom`, `/dev/...`). */
export function volumeStorage(file: string): string | null {
  const m = VOLUME_ID.exec(file);
  return m ? m[1]! : null;
}

/** PVE drive_is_cloudinit on a `file` value; with a vmid only that VM's cloud-init volume counts. */
export function isCloudinitVolume(file: string, vmid?: number | null): boolean {
  if (!file.includes('cloudinit')) return false;
  const id = vmid === undefined || vmid === null ? '\\d+' : String(vmid);
  return new RegExp(`[:/](?:vm-${id}-)?cloudinit(?:\\.${QEMU_FORMAT})?$`).test(file);
}

/**
 * The VM that owns a volume by its name, as the storage plugins' parse_volname see it
 * (`local:100/vm-100-disk-0.qcow2` -> 100, `local-lvm:vm-101-disk-1` -> 101,
 * `rbd:base-9000-disk-0/vm-101-disk-0` -> 101). Absolute paths and ISOs have no owner (null).
 */
export function volumeOwner(file: string): number | null {
  if (file.startsWith('/')) return null;
  const m = VOLUME_ID.exec(file);
  if (!m) return null;
  const volname = m[2]!;
  // Directory-style storages: `<vmid>/<name>` or the linked clone `<basevmid>/<base>/<vmid>/<name>`.
  const clone = /^(\d+)\/\S+\/(\d+)\/\S+$/.exec(volname);
  if (clone) return Number(clone[2]);
  const dir = /^(\d+)\/\S+$/.exec(volname);
  if (dir) return Number(dir[1]);
  const named = /^(?:[^/]+\/)?(?:base|basevol|subvol|vm)?-(\d+)-\S+$/.exec(volname);
  return named ? Number(named[1]) : null;
}

/** Last value per key, as PVE's parsed hash holds them. */
function optionMap(ps: PropertyString): Map<string, string> {
  const values = new Map<string, string>();
  for (const part of ps.parts) if (part.key !== '') values.set(part.key, part.value);
  return values;
}

/** Perl truthiness of a parsed option: unset, '' and '0' are false; booleans read as PVE does. */
function truthy(values: Map<string, string>, key: string): boolean {
  const v = values.get(key);
  if (v === undefined || v === '' || v === '0') return false;
  const spec = ALL_DRIVE_FORMAT[key];
  if (spec && 'type' in spec && spec.type === 'boolean') return parsePveBoolean(v) !== false;
  return true;
}

const KEY_KIND_GUESS = /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)(\d+)$/;

const SCHEMA_CONSEQUENCE =
  'PVE refuses this value: the API answers HTTP 400, and a config file line like this is dropped when PVE reads the file, so the disk disappears';
const PARSE_DRIVE_CONSEQUENCE =
  'PVE keeps the line, but parse_drive rejects it, so the disk is left off the QEMU command line (the API says "unable to parse drive options")';

/** Schema problems listed per drive value; the rest are counted in one issue. */
const MAX_PROBLEMS_LISTED = 5;

/**
 * Reads one drive line value (`key` is the config key, e.g. `scsi0`). Never throws. The result
 * keeps every part as written; `issues` lists what PVE would refuse (schema errors, docs/how-qemu-server-decides.md#drive-keys extra
 * rejections), each naming the key and sub-key.
 */
export function parseDrive(key: string, value: string, opts: ParseDriveOptions = {}): Drive {
  const issues: ConfigIssue[] = [];
  const dk = parseDriveKey(key);
  let kind: DriveKeyKind;
  let index: number;
  if (dk) {
    ({ kind, index } = dk);
  } else {
    const guess = KEY_KIND_GUESS.exec(key);
    kind = guess ? (guess[1] as DriveKeyKind) : 'unused';
    index = guess ? Number(guess[2]) : -1;
    issues.push({
      key,
      severity: 'error',
      message: `${key}: not a valid drive key (valid: ide0-3, sata0-5, scsi0-30, virtio0-15, efidisk0, tpmstate0, unused0-255); PVE ignores this line`,
    });
  }

  const { ps, problems } = scanPropertyString(value, driveFormat(kind, { alloc: opts.alloc ?? false }));
  // One bad value costs a bounded amount of output: the first problems are listed, the rest counted.
  for (const p of problems.slice(0, MAX_PROBLEMS_LISTED)) {
    const sub = p.key !== undefined && p.key !== '' ? p.key : undefined;
    const hint = hintFor(kind, sub, p.reason);
    issues.push({
      key,
      ...(sub !== undefined ? { subkey: sub } : {}),
      severity: 'error',
      message: `${key}: ${sub !== undefined && p.kind === 'value' ? `${sub}: ` : ''}${p.reason}. ${SCHEMA_CONSEQUENCE}${hint}`,
    });
  }
  if (problems.length > MAX_PROBLEMS_LISTED) {
    issues.push({
      key,
      severity: 'error',
      message: `${key}: ${problems.length - MAX_PROBLEMS_LISTED} more problems in this value not listed (${ps.parts.length} comma-separated parts, ${value.length} characters). ${SCHEMA_CONSEQUENCE}`,
    });
  }
  for (const legacyKey of LEGACY_GEOMETRY_KEYS) {
    if (kind !== 'efidisk' && kind !== 'tpmstate' && kind !== 'unused' && getPart(ps, legacyKey) !== undefined) {
      issues.push({
        key,
        subkey: legacyKey,
        severity: 'warning',
        message: `${key}: '${legacyKey}' is a pre-PVE-9 disk geometry option; PVE 9 silently drops it`,
      });
    }
  }
  for (const reason of parseDriveRejections(kind, ps)) {
    issues.push({ key, ...(reason.sub ? { subkey: reason.sub } : {}), severity: 'error', message: `${key}: ${reason.text}. ${PARSE_DRIVE_CONSEQUENCE}` });
  }

  const file = getPart(ps, 'file') ?? '';
  return {
    key,
    kind,
    index,
    file,
    storage: volumeStorage(file),
    options: ps,
    isCdrom: getPart(ps, 'media') === 'cdrom',
    isCloudinit: kind !== 'unused' && isCloudinitVolume(file, opts.vmid),
    issues,
  };
}

function hintFor(kind: DriveKeyKind, sub: string | undefined, reason: string): string {
  if (!reason.startsWith('invalid key')) return '';
  if (sub === 'iothread') return `; remove 'iothread' (IO threads exist only for scsi and virtio disks)`;
  return sub !== undefined ? `; remove '${sub}' (not an option of ${kind} drives)` : '';
}

/** The extra refusals of Drive.pm parse_drive after the schema passed (docs/how-qemu-server-decides.md#drive-keys). */
function parseDriveRejections(kind: DriveKeyKind, ps: PropertyString): { sub?: string; text: string }[] {
  const out: { sub?: string; text: string }[] = [];
  if (kind === 'unused' || kind === 'efidisk' || kind === 'tpmstate') return out;
  const values = optionMap(ps);
  if (throttled(values)) out.push(...throttleRejections(values));
  if (values.get('media') === 'cdrom') {
    if (truthy(values, 'snapshot')) out.push({ sub: 'snapshot', text: 'media=cdrom cannot be combined with snapshot' });
    if (truthy(values, 'format')) out.push({ sub: 'format', text: 'media=cdrom cannot be combined with format' });
    if (kind === 'virtio') out.push({ sub: 'media', text: 'a virtio drive cannot be a CD-ROM (media=cdrom)' });
  }
  return out;
}

/** Any throttle option (`bps*`, `mbps*`, `iops*`): most drives have none, and then no throttle rule applies. */
function throttled(values: Map<string, string>): boolean {
  for (const key of values.keys()) if (key.startsWith('bps') || key.startsWith('mbps') || key.startsWith('iops')) return true;
  return false;
}

const THROTTLE_REQUIREMENTS: ReadonlyArray<readonly [string, string]> = [
  ['mbps_max', 'mbps'],
  ['mbps_rd_max', 'mbps_rd'],
  ['mbps_wr_max', 'mbps_wr'],
  ['iops_max', 'iops'],
  ['iops_rd_max', 'iops_rd'],
  ['iops_wr_max', 'iops_wr'],
  ['bps_max_length', 'mbps_max'],
  ['bps_rd_max_length', 'mbps_rd_max'],
  ['bps_wr_max_length', 'mbps_wr_max'],
  ['iops_max_length', 'iops_max'],
  ['iops_rd_max_length', 'iops_rd_max'],
  ['iops_wr_max_length', 'iops_wr_max'],
];

/** parse_drive's refusals of throttle options. */
function throttleRejections(values: Map<string, string>): { sub?: string; text: string }[] {
  const out: { sub?: string; text: string }[] = [];
  for (const opt of ['bps', 'bps_rd', 'bps_wr']) {
    if (values.has(opt) && values.has(`m${opt}`)) {
      out.push({ sub: opt, text: `both ${opt} and m${opt} specified` });
    }
  }
  // The legacy bps* values count as their mbps* counterparts (parse_drive converts them first).
  // A converted value is printed with %.3f, so even `bps=0` gives a true `0.000`.
  const has = (k: string): boolean => truthy(values, k) || (k.startsWith('mbps') && values.has(k.slice(1)));
  for (const [option, requires] of THROTTLE_REQUIREMENTS) {
    if (truthy(values, option) && !has(requires)) out.push({ sub: option, text: `${option} requires ${requires}` });
  }
  for (const [a, b] of [
    ['mbps', 'mbps_rd'],
    ['mbps', 'mbps_wr'],
    ['iops', 'iops_rd'],
    ['iops', 'iops_wr'],
  ] as const) {
    if (has(a) && has(b)) out.push({ sub: b, text: `${a} cannot be combined with ${b}` });
  }
  return out;
}

/** The value exactly as it was read (or as changed with {@link withDriveOptions}). */
export function printDrive(drive: Drive): string {
  return printPropertyString(drive.options);
}

/**
 * PVE's print_drive of this drive: file first, the other keys sorted, booleans 1/0, sizes
 * re-printed (`1024M` -> `1G`), legacy `bps*` converted to `mbps*` (`%.3f`), legacy geometry keys
 * dropped. This is what the API stores and returns after it wrote a drive.
 */
export function canonicalDriveString(drive: Drive): string {
  let ps = drive.options;
  for (const k of LEGACY_GEOMETRY_KEYS) ps = removePart(ps, k);
  for (const opt of ['bps', 'bps_rd', 'bps_wr']) {
    const bps = getPart(ps, opt);
    if (bps === undefined) continue;
    ps = removePart(ps, opt);
    if (getPart(ps, `m${opt}`) === undefined && /^[+-]?\d+$/.test(bps)) {
      ps = setPart(ps, `m${opt}`, bytesToMbps(BigInt(bps)));
    }
  }
  return canonicalPropertyString(ps, ALL_DRIVE_FORMAT);
}

/** sprintf("%.3f", bps / 1048576) with C's round-half-even on exact ties. */
function bytesToMbps(bps: bigint): string {
  const neg = bps < 0n;
  const num = (neg ? -bps : bps) * 1000n;
  const den = 1n << 20n;
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(4, '0');
  return `${neg && q !== 0n ? '-' : ''}${s.slice(0, -3)}.${s.slice(-3)}`;
}

/**
 * Returns the drive with options changed (`null` removes one), re-read so that derived fields and
 * issues are current. Existing options keep their place and spelling; new ones are appended.
 * Throws PropertyStringError for a value containing a comma.
 */
export function withDriveOptions(drive: Drive, changes: Record<string, string | null>, opts: ParseDriveOptions = {}): Drive {
  let ps = drive.options;
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) ps = removePart(ps, k);
    else ps = k === 'file' ? setDefaultPart(ps, k, v) : setPart(ps, k, v);
  }
  return parseDrive(drive.key, printPropertyString(ps), opts);
}
