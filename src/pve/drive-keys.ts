// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Drive keys: the one pattern, the one limit table and PVE's order (qemu-server
 * src/PVE/QemuServer/Drive.pm `$MAX_*_DISKS`, `valid_drive_names`, `is_valid_drivename`;
 * docs/how-qemu-server-decides.md#drive-keys).
 */
import type { DriveBus, DriveKey, DriveKeyKind } from './types.js';

/** Highest index + 1 per kind (Drive.pm $MAX_*_DISKS, $MAX_UNUSED_DISKS). */
export const DRIVE_KEY_COUNTS: Readonly<Record<DriveKeyKind, number>> = {
  ide: 4,
  sata: 6,
  scsi: 31,
  virtio: 16,
  efidisk: 1,
  tpmstate: 1,
  unused: 256,
};

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * Every valid drive key in PVE's order (valid_drive_names_with_unused): ide, scsi, virtio, sata
 * (the boot-disk search order), efidisk0, tpmstate0, then unused0-255.
 */
export const DRIVE_KEYS: readonly string[] = [
  ...range('ide', DRIVE_KEY_COUNTS.ide),
  ...range('scsi', DRIVE_KEY_COUNTS.scsi),
  ...range('virtio', DRIVE_KEY_COUNTS.virtio),
  ...range('sata', DRIVE_KEY_COUNTS.sata),
  'efidisk0',
  'tpmstate0',
  ...range('unused', DRIVE_KEY_COUNTS.unused),
];

/** Position of each kind in PVE's order (valid_drive_names, then unused). */
const KIND_ORDER: Readonly<Record<DriveKeyKind, number>> = { ide: 0, scsi: 1, virtio: 2, sata: 3, efidisk: 4, tpmstate: 5, unused: 6 };

/** Sorts drive keys in PVE's order (ide, scsi, virtio, sata, efidisk0, tpmstate0, unused), then by index; other keys last. */
export function compareDriveKeys(a: string, b: string): number {
  const ka = parseDriveKey(a);
  const kb = parseDriveKey(b);
  if (!ka || !kb) return (ka ? -1 : kb ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0);
  return KIND_ORDER[ka.kind] - KIND_ORDER[kb.kind] || ka.index - kb.index;
}

/** The lowest `<bus>N` key not in `used`; null when every index of the bus is taken. */
export function freeDriveKey(bus: DriveBus, used: Iterable<string>): string | null {
  const taken = new Set(used);
  for (let i = 0; i < DRIVE_KEY_COUNTS[bus]; i++) if (!taken.has(`${bus}${i}`)) return `${bus}${i}`;
  return null;
}

/** Every valid key, parsed once: an audit asks for keys a few hundred thousand times. */
const PARSED_KEYS: ReadonlyMap<string, DriveKey> = new Map(
  (Object.keys(DRIVE_KEY_COUNTS) as DriveKeyKind[]).flatMap((kind) =>
    range(kind, DRIVE_KEY_COUNTS[kind]).map((key, index): [string, DriveKey] => [key, Object.freeze({ key, kind, index })]),
  ),
);

/** `scsi7` -> `{ key, kind: 'scsi', index: 7 }` (frozen, shared); null for anything that is not a valid drive key. */
export function parseDriveKey(key: string): DriveKey | null {
  return PARSED_KEYS.get(key) ?? null;
}

/** True for every key of {@link DRIVE_KEYS} (including `unusedN`). */
export function isDriveKey(key: string): boolean {
  return parseDriveKey(key) !== null;
}

/** PVE is_valid_drivename: a drive key that is not `unusedN`. */
export function isValidDriveName(key: string): boolean {
  const k = parseDriveKey(key);
  return k !== null && k.kind !== 'unused';
}

