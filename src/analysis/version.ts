// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * QEMU and machine versions: `X.Y[.Z]` for binaries, `X.Y[+pveN]` for machine types.
 *
 * NOTE: qemu-server compares machine versions as (major, minor, pve revision); the patch level of
 * the QEMU binary never matters for the machine type (`11.0.2` runs machine `11.0`).
 */
import type { Version } from './types.js';

/** A machine version as qemu-server sees it: `4.1+pve2` is {major: 4, minor: 1, pve: 2}. */
export interface MachineVersion {
  major: number;
  minor: number;
  /** PVE machine revision; a pinned version written without `+pveN` counts as 0. */
  pve: number;
}

const VERSION_RE = /^(\d+)\.(\d+)(?:\.(\d+))?$/;

/** Parses `X.Y` or `X.Y.Z` (as given to `--qemu-version` or read from `running-qemu`); null otherwise. */
export function parseVersion(text: string): Version | null {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), m[3] === undefined ? 0 : Number(m[3])];
}

/** `[11, 0, 0]` → `11.0.0`. */
export function formatVersion(v: Version): string {
  return `${v[0]}.${v[1]}.${v[2]}`;
}

/** Negative, zero or positive like a sort comparator. */
export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Negative, zero or positive like a sort comparator; the pve revision is the third component. */
export function compareMachineVersions(a: MachineVersion, b: MachineVersion): number {
  return a.major - b.major || a.minor - b.minor || a.pve - b.pve;
}

/**
 * qemu-server's `min_version($v, major, minor[, pve])`: true when `v` is at least that version.
 * Without `pve` only major.minor count.
 */
export function machineAtLeast(v: MachineVersion, major: number, minor: number, pve?: number): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return pve === undefined || v.pve >= pve;
}

/** `{11, 0, 2}` → `11.0+pve2`. */
export function formatMachineVersion(v: MachineVersion): string {
  return `${v.major}.${v.minor}+pve${v.pve}`;
}

/**
 * Highest PVE machine revision per QEMU version (qemu-server Machine.pm `$PVE_MACHINE_VERSION`,
 * 9.2.6). Versions not listed have revision 0.
 */
const PVE_MACHINE_REVISIONS: Record<string, number> = { '4.1': 2, '9.2': 1, '10.0': 1, '11.0': 2 };

/**
 * The machine version an unpinned VM gets on a node with this QEMU binary: the binary's major.minor
 * plus the highest `+pveN` known for it (qemu-server `get_pve_version`).
 */
export function installedMachineVersion(qemu: Version): MachineVersion {
  return { major: qemu[0], minor: qemu[1], pve: highestPveRevision(qemu[0], qemu[1]) };
}

/** qemu-server `get_pve_version`: the highest `+pveN` this qemu-server knows for a machine's major.minor. */
export function highestPveRevision(major: number, minor: number): number {
  return PVE_MACHINE_REVISIONS[`${major}.${minor}`] ?? 0;
}

/**
 * Why a QEMU binary of version `qemu` cannot run machine version `v`, or null when it can (qemu-server
 * `config_to_command` before it builds anything): `qemu` (the binary) is older than `v`'s major.minor,
 * or `pve` (`can_run_pve_machine_version`): `v`'s `+pveN` is above the highest revision qemu-server
 * knows for that major.minor (its own table, whatever the binary: `9.2+pve1` runs on QEMU 10.1).
 */
export function machineRunBlocker(qemu: Version, v: MachineVersion): 'qemu' | 'pve' | null {
  if (qemu[0] !== v.major ? qemu[0] < v.major : qemu[1] < v.minor) return 'qemu';
  return v.pve > highestPveRevision(v.major, v.minor) ? 'pve' : null;
}

/** True when a QEMU binary of version `qemu` can run machine version `v` (see `machineRunBlocker`). */
export function canRunMachine(qemu: Version, v: MachineVersion): boolean {
  return machineRunBlocker(qemu, v) === null;
}
