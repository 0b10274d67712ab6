// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The new string of one drive: `iothread=1` and the chosen aio, every other part kept exactly as
 * written (position, spelling, unknown keys). Parts are edited on the parsed property string,
 * never re-printed canonically, so a drive that needs nothing comes back byte-identical.
 */
import { getPart, isTrue, printPropertyString, removePart, setPart } from '../pve/index.js';
import type { DiskReport } from '../analysis/types.js';
import type { Drive, PropertyString } from '../pve/types.js';
import { gate } from './gates.js';
import type { Gate, TargetAio } from './types.js';

/** Options valid on scsi but rejected by the API on sata/ide (docs/how-qemu-server-decides.md#drive-keys). */
export const SCSI_ONLY_OPTIONS = ['iothread', 'ro', 'queues', 'product', 'vendor', 'scsiblock'] as const;
/** Options valid on ide but rejected on scsi. */
export const IDE_ONLY_OPTIONS = ['model'] as const;

/** Value of a part by canonical key, as written (the last one PVE reads); undefined when absent. */
export function partValue(ps: PropertyString, key: string): string | undefined {
  return getPart(ps, key);
}

export interface DriveTarget {
  after: string;
  warnings: Gate[];
}

/**
 * Target string of a scsi/virtio disk. aio=native is never set on a disk whose cache is not
 * O_DIRECT (QEMU refuses to open it, docs/how-qemu-server-decides.md#aio): the aio is then left as is, with a warning.
 */
export function targetDriveString(drive: Drive, disk: DiskReport | undefined, aio: TargetAio): DriveTarget {
  const warnings: Gate[] = [];
  let ps = drive.options;
  if (!isTrue(partValue(ps, 'iothread'))) ps = setPart(ps, 'iothread', '1');
  if (aio !== 'keep' && partValue(ps, 'aio') !== aio) {
    // An O_DIRECT that could not be determined (storage type unknown) is not taken as direct.
    const directUnknown = disk?.unknown?.find((u) => u.field === 'cacheDirect')?.reason;
    if (aio === 'native' && (disk?.cacheDirect === false || directUnknown !== undefined)) {
      const why = directUnknown !== undefined ? `may not be O_DIRECT (${directUnknown})` : 'is not O_DIRECT';
      warnings.push(
        gate(
          'AIO_NATIVE_NEEDS_DIRECT',
          `${drive.key}: cache ${partValue(ps, 'cache') ?? '(default)'} ${why}; aio=native would stop the VM from starting, so aio stays ${partValue(ps, 'aio') ?? 'unset'}`,
          { disk: drive.key, fix: 'set cache=none or directsync on this disk first, or plan with --aio threads' },
        ),
      );
    } else {
      if (aio === 'io_uring') {
        const unsafe = ioUringUnsafeReason(disk);
        if (unsafe) {
          warnings.push(
            gate('AIO_IO_URING_STORAGE', `${drive.key}: PVE does not default to io_uring on ${unsafe}`, {
              disk: drive.key,
              fix: 'plan with --aio threads for this VM',
            }),
          );
        }
      }
      ps = setPart(ps, 'aio', aio);
    }
  }
  return { after: printPropertyString(ps), warnings };
}

/** Why qemu-server would not pick io_uring by default here (docs/how-qemu-server-decides.md#aio), or null. */
function ioUringUnsafeReason(disk: DiskReport | undefined): string | null {
  if (!disk) return null;
  if (disk.storageType === 'lvm') return 'plain LVM storage';
  if (disk.storageType === 'cifs') return 'CIFS storage';
  if (disk.storageType === 'rbd' && disk.cacheDirect === false) return 'krbd with a non-direct cache';
  return null;
}

/** A sata/ide drive string rewritten for the scsi bus: ide-only options dropped (reported). */
export function toScsiString(drive: Drive): { value: string; dropped: string[] } {
  let ps = drive.options;
  const dropped: string[] = [];
  for (const key of IDE_ONLY_OPTIONS) {
    const v = partValue(ps, key);
    if (v !== undefined) {
      dropped.push(`${key}=${v}`);
      ps = removePart(ps, key);
    }
  }
  return { value: printPropertyString(ps), dropped };
}

/** A scsi drive string rewritten for the sata bus (staged path): scsi-only options dropped. */
export function toSataString(drive: Drive): { value: string; dropped: string[] } {
  let ps = drive.options;
  const dropped: string[] = [];
  for (const key of SCSI_ONLY_OPTIONS) {
    const v = partValue(ps, key);
    if (v !== undefined) {
      dropped.push(`${key}=${v}`);
      ps = removePart(ps, key);
    }
  }
  return { value: printPropertyString(ps), dropped };
}
