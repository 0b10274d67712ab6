// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What PVE's Hardware view should add to its rows so it tells what QEMU really runs: for each
 * "Hard Disk (…)" row the effective facts that differ from what the row's text suggests, and on
 * the "SCSI Controller" row a hint when any disk is affected. Nothing where config and effect
 * agree. Pure: from the core's `VmReport` (src/analysis), as text.
 */
import type { DiskReport, VmReport } from '../../src/analysis/types.js';
import { notesOf } from '../../src/present/deviations.js';
import { aioDiffers, iothreadDiffers, isEmptyDrive } from '../data/filter.js';
import { scsihwLabel } from '../strings.js';

/** Storage types as PVE's storage panel names them (pve-manager Utils.js storageSchema). */
const STORAGE_LABEL: Record<string, string> = {
  dir: 'Directory',
  lvm: 'LVM',
  lvmthin: 'LVM-Thin',
  btrfs: 'BTRFS',
  nfs: 'NFS',
  cifs: 'SMB/CIFS',
  glusterfs: 'GlusterFS',
  iscsi: 'iSCSI',
  iscsidirect: 'iSCSI (direct)',
  rbd: 'RBD',
  cephfs: 'CephFS',
  zfspool: 'ZFS',
  zfs: 'ZFS over iSCSI',
  pbs: 'Proxmox Backup Server',
  esxi: 'ESXi',
};

function storageText(d: DiskReport): string {
  return d.storageType ? (STORAGE_LABEL[d.storageType] ?? d.storageType) : 'this storage';
}

/** The deviations of one disk row, each one line (`IO thread: ignored — …`). */
export function diskNotes(vm: VmReport, d: DiskReport): string[] {
  if (d.onlyPending || isEmptyDrive(d)) return [];
  const notes: string[] = [];
  if (iothreadDiffers(d)) {
    notes.push(
      d.iothread.configured
        ? d.bus === 'scsi'
          ? `IO thread: ignored — SCSI Controller is ${scsihwLabel(vm.scsihw.configured)}`
          : `IO thread: ignored — ${notesOf(d).find((n) => n.includes('iothread')) ?? `not used on the ${d.bus} bus`}`
        : 'IO thread: on, although not configured',
    );
  }
  if (aioDiffers(d)) {
    notes.push(`Async IO: ${d.aio.effective} (${storageText(d)}), not ${d.aio.configured ?? 'io_uring'}`);
  } else if (d.aio.configured && d.aio.effective === null && !d.unknown?.some((u) => u.field === 'aio')) {
    notes.push(`Async IO: none — ${storageText(d)} gets no aio, aio=${d.aio.configured} is ignored`);
  }
  return notes;
}

/** Notes per Hardware-view row key (`scsi0`, …, `scsihw`); rows without notes are absent. */
export interface HardwareNotes {
  disks: Map<string, string[]>;
  /** The SCSI Controller row's hint, null when no disk deviates. */
  scsihw: string | null;
}

export function hardwareNotes(vm: VmReport): HardwareNotes {
  const disks = new Map<string, string[]>();
  for (const d of vm.disks) {
    const notes = diskNotes(vm, d);
    if (notes.length > 0) disks.set(d.key, notes);
  }
  const ignored = vm.disks.filter((d) => !d.onlyPending && d.iothread.configured && !d.iothread.effective).length;
  const scsihw =
    disks.size === 0
      ? null
      : ignored > 0
        ? `${ignored} disk${ignored === 1 ? '' : 's'} configured with IO thread run without one on ${scsihwLabel(vm.scsihw.configured)}`
        : `${disks.size} disk${disks.size === 1 ? '' : 's'} run differently than configured`;
  return { disks, scsihw };
}
