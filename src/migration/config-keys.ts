// SPDX-License-Identifier: AGPL-3.0-or-later
/** Config-key helpers shared by the planner, the staged path and rollback. */
import { canonicalDriveString, parseDrive } from '../pve/index.js';
import type { Drive } from '../pve/types.js';

/** The controller the migration moves every VM to. */
export const TARGET_SCSIHW = 'virtio-scsi-single';
export const DRIVE_KEY_RE = /^(ide|sata|scsi|virtio)(\d+)$/;
/** scsi30 is the highest key PVE accepts (docs/how-qemu-server-decides.md#drive-keys). */
const MAX_INDEX = { scsi: 30, sata: 5 } as const;

/** Drive keys of a config in PVE's natural order (bus, then index). */
export function driveKeys(config: Record<string, string>): string[] {
  const order = { ide: 0, sata: 1, scsi: 2, virtio: 3 } as const;
  return Object.keys(config)
    .filter((k) => DRIVE_KEY_RE.test(k))
    .sort((a, b) => {
      const ma = DRIVE_KEY_RE.exec(a)!;
      const mb = DRIVE_KEY_RE.exec(b)!;
      const bus = order[ma[1] as keyof typeof order] - order[mb[1] as keyof typeof order];
      return bus !== 0 ? bus : Number(ma[2]) - Number(mb[2]);
    });
}

/** A drive that carries data (not a CD-ROM, not cloud-init, not an empty `none` or host `cdrom`). */
export function isDataDisk(drive: Drive): boolean {
  return !drive.isCdrom && !drive.isCloudinit && drive.file !== 'none' && drive.file !== 'cdrom';
}

/** First `<bus>N` key not in `used`; null when every index is taken. */
export function freeKey(bus: 'scsi' | 'sata', used: Iterable<string>): string | null {
  const set = new Set(used);
  for (let i = 0; i <= MAX_INDEX[bus]; i++) if (!set.has(`${bus}${i}`)) return `${bus}${i}`;
  return null;
}

/** The guest agent is enabled (`agent: 1`, `agent: enabled=1,…`; the default key is `enabled`). */
export function agentEnabled(value: string | undefined): boolean {
  if (!value) return false;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const v = eq < 0 ? part : part.slice(0, eq) === 'enabled' ? part.slice(eq + 1) : null;
    if (v !== null) return /^(?:1|on|yes|true)$/i.test(v.trim());
  }
  return false;
}

const STORED_DRIVE_KEY_RE = /^(?:ide|sata|scsi|virtio|unused)\d+$|^(?:efidisk|tpmstate)0$/;

/**
 * Two values of `key` mean the same to PVE. Drive strings are compared in PVE's canonical form:
 * the API stores what print_drive makes of a value (file first, keys sorted, booleans 1/0), so a
 * value read back after a write is canonical even when the one sent kept the user's spelling.
 */
export function sameConfigValue(key: string, a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (!STORED_DRIVE_KEY_RE.test(key)) return false;
  return canonicalDriveString(parseDrive(key, a)) === canonicalDriveString(parseDrive(key, b));
}
