// SPDX-License-Identifier: AGPL-3.0-or-later
/** Config-key helpers shared by the planner, the staged path and rollback. */
import { canonicalDriveString, compareDriveKeys, freeDriveKey, parseDrive, parseDriveKey } from '../pve/index.js';
import type { Drive, DriveBus } from '../pve/types.js';

/** The controller the migration moves every VM to. */
export const TARGET_SCSIHW = 'virtio-scsi-single';

/** The bus of an ide/sata/scsi/virtio key, else null. */
export function diskBus(key: string): DriveBus | null {
  const k = parseDriveKey(key);
  return k && (k.kind === 'ide' || k.kind === 'sata' || k.kind === 'scsi' || k.kind === 'virtio') ? k.kind : null;
}

/** The ide/sata/scsi/virtio keys of a config, in PVE's order (src/pve/drive-keys.ts). */
export function driveKeys(config: Record<string, string>): string[] {
  return Object.keys(config)
    .filter((k) => diskBus(k) !== null)
    .sort(compareDriveKeys);
}

/** A drive that carries data (not a CD-ROM, not cloud-init, not an empty `none` or host `cdrom`). */
export function isDataDisk(drive: Drive): boolean {
  return !drive.isCdrom && !drive.isCloudinit && drive.file !== 'none' && drive.file !== 'cdrom';
}

/** First `<bus>N` key not in `used`; null when every index is taken. */
export function freeKey(bus: 'scsi' | 'sata', used: Iterable<string>): string | null {
  return freeDriveKey(bus, used);
}

export { agentEnabled } from '../pve/index.js';

/**
 * Two values of `key` mean the same to PVE. Drive strings are compared in PVE's canonical form:
 * the API stores what print_drive makes of a value (file first, keys sorted, booleans 1/0), so a
 * value read back after a write is canonical even when the one sent kept the user's spelling.
 */
export function sameConfigValue(key: string, a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (parseDriveKey(key) === null) return false;
  return canonicalDriveString(parseDrive(key, a)) === canonicalDriveString(parseDrive(key, b));
}
