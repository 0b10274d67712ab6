// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What PVE's Hardware view should add to its rows so it tells what QEMU really runs: for each
 * "Hard Disk (…)" row the effective IO thread and aio where they differ from what the row's config
 * line suggests, and on the "SCSI Controller" row a hint when a disk's IO thread is ignored. Nothing
 * where config and effect agree. The words are the core's one renderer of facts (src/present), the
 * same the CLI's table and the panel use.
 */
import type { DiskReport, VmReport } from '../../src/analysis/types.js';
import { deviationText, findDeviation } from '../../src/present/deviations.js';
import { aioCell, iothreadCell, unknownCell } from '../../src/present/disk-facts.js';
import { isEmptyDrive } from '../data/filter.js';

/** The deviations of one disk row, each one line (`IO thread: iothread=1 (ignored: scsihw lsi)`). */
export function diskNotes(d: DiskReport): string[] {
  if (d.onlyPending || isEmptyDrive(d)) return [];
  const notes: string[] = [];
  const iothread = iothreadCell(d);
  if (iothread.marked) notes.push(`IO thread: ${iothread.text}`);
  // An aio that cannot be determined is not a difference: the Disk I/O tab says why it is unknown.
  const aio = aioCell(d);
  if (aio.marked && unknownCell(d, 'aio') === null) notes.push(`Async IO: ${aio.text}`);
  return notes;
}

/** Notes per Hardware-view row key (`scsi0`, …, `scsihw`); rows without notes are absent. */
export interface HardwareNotes {
  disks: Map<string, string[]>;
  /** The SCSI Controller row's hint (with the fix button), null when no disk deviates. */
  scsihw: string | null;
}

export function hardwareNotes(vm: VmReport): HardwareNotes {
  const disks = new Map<string, string[]>();
  for (const d of vm.disks) {
    const notes = diskNotes(d);
    if (notes.length > 0) disks.set(d.key, notes);
  }
  const ignored = vm.disks.filter((d) => !d.onlyPending).map((d) => findDeviation(d, 'scsihw-not-single')).filter((x) => x !== undefined);
  const count = (n: number): string => `${n} disk${n === 1 ? '' : 's'}`;
  const scsihw =
    disks.size === 0 ? null : ignored.length > 0 ? `${deviationText(ignored[0]!)} (${count(ignored.length)})` : `${count(disks.size)} run differently than configured`;
  return { disks, scsihw };
}
