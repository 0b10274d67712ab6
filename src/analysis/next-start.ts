// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The config the next cold start really runs: qemu-server `vmconfig_apply_pending` on plain key/value
 * maps, so the offline audit (config file) and the online audit (`GET …/pending`) agree
 * (PVE-FACTS §4.5 "What the next cold start really runs", §9.10, §9.11).
 */
import { parseDrive, volumeOwner } from '../pve/index.js';
import type { PendingDelete } from '../pve/types.js';

/** Keys of drives that qemu-server treats as disks when applying deletes (`is_valid_drivename`). */
const DRIVE_KEY_RE = /^(?:ide\d+|sata\d+|scsi\d+|virtio\d+|efidisk0|tpmstate0)$/;

export interface NextStart {
  /** Main-section values after the next cold start. */
  config: Record<string, string>;
  /** Forced deletes that fail (the disk stays and the delete stays pending), with the reason. */
  failedDeletes: { key: string; reason: string }[];
}

function driveFile(key: string, value: string, vmid: number): { file: string; cdrom: boolean; cloudinit: boolean } {
  const drive = parseDrive(key, value, { vmid });
  return { file: drive.file, cdrom: drive.isCdrom, cloudinit: drive.isCloudinit };
}

/**
 * Applies pending changes the way a cold start does: deletions first (sorted by key), then the
 * pending values. A forced delete (`!key`) of a disk fails only when the drive is not a CD-ROM
 * (cloud-init counts as a disk), this VM owns the volume, and the volume is still used by another
 * drive of the config or by a non-CD drive of a snapshot (§9.11); then the disk stays.
 */
export function nextStartConfig(
  vmid: number,
  current: Record<string, string>,
  pending: Record<string, string>,
  deletes: PendingDelete[],
  snapshots: Record<string, string>[] = [],
): NextStart {
  const config: Record<string, string> = { ...current };
  const failedDeletes: NextStart['failedDeletes'] = [];
  const sorted = [...deletes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const del of sorted) {
    const value = config[del.key];
    if (value === undefined) continue;
    const deleted = DRIVE_KEY_RE.test(del.key) ? driveFile(del.key, value, vmid) : null;
    // try_deallocate_drive asks drive_is_cdrom($drive, 1): a cloud-init drive counts as a disk.
    if (del.force && deleted && !(deleted.cdrom && !deleted.cloudinit)) {
      const volid = deleted.file;
      if (volumeOwner(volid) === vmid) {
        const usedByConfig = Object.entries(config).some(
          ([k, v]) => k !== del.key && DRIVE_KEY_RE.test(k) && driveFile(k, v, vmid).file === volid,
        );
        const usedBySnapshot = snapshots.some((snap) =>
          Object.entries(snap).some(([k, v]) => {
            if (!DRIVE_KEY_RE.test(k)) return false;
            const d = driveFile(k, v, vmid);
            return !d.cdrom && d.file === volid;
          }),
        );
        if (usedByConfig || usedBySnapshot) {
          failedDeletes.push({
            key: del.key,
            reason: `unable to delete '${volid}' - volume is still in use (snapshot?): the forced delete of ${del.key} fails at the next start and stays pending`,
          });
          continue;
        }
      }
    }
    delete config[del.key];
  }
  for (const [key, value] of Object.entries(pending)) config[key] = value;
  return { config, failedDeletes };
}
