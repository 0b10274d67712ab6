// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What PVE's Hardware view should add to its rows so it tells what QEMU really runs: for each
 * "Hard Disk (…)" row the effective IO thread and aio where they differ from what the row's config
 * line suggests, and on the "SCSI Controller" row a hint when a disk's IO thread is ignored. Nothing
 * where config and effect agree. The words are the core's one renderer of facts (src/present), the
 * same the CLI's table and the panel use.
 */
import type { DiskFacts, DiskReport, VmReport } from '../../src/analysis/types.js';
import { deviationText, findDeviation } from '../../src/present/deviations.js';
import { aioCell, iothreadCell, startErrorLines, unknownCell } from '../../src/present/disk-facts.js';
import { isEmptyDrive } from '../data/filter.js';

/** The facts after the next cold start, when the pending changes alter them (PVE shows those values in orange). */
function nextFacts(d: DiskReport): DiskFacts | null {
  return d.pending && !('deleted' in d.pending) ? d.pending : null;
}

/**
 * The deviations of one disk row, each one line (`IO thread: iothread=1 (ignored: scsihw lsi)`).
 * A deviation the pending changes end says so: it still runs that way until the next cold start,
 * and offering the same fix again would invite a second write.
 */
export function diskNotes(d: DiskReport): string[] {
  if (d.onlyPending || isEmptyDrive(d)) return [];
  const next = nextFacts(d);
  const notes: string[] = [];
  const iothread = iothreadCell(d);
  if (iothread.marked) notes.push(`IO thread: ${iothread.text}${next && !iothreadCell(next).marked ? `; ${iothreadCell(next).text} after the next cold start` : ''}`);
  // An aio that cannot be determined is not a difference: the Disk I/O tab says why it is unknown.
  const aio = aioCell(d);
  if (aio.marked && unknownCell(d, 'aio') === null) notes.push(`Async IO: ${aio.text}${next && !aioCell(next).marked ? `; ${aioCell(next).text} after the next cold start` : ''}`);
  return notes;
}

/** Notes per Hardware-view row key (`scsi0`, …, `scsihw`); rows without notes are absent. */
export interface HardwareNotes {
  disks: Map<string, string[]>;
  /** Per row key: why QEMU/qemu-server refuses to start the VM (now, or after the pending changes). */
  startErrors: Map<string, string[]>;
  /** The SCSI Controller row's hint (with the fix button), null when no disk deviates. */
  scsihw: string | null;
  /** Every deviation ends at the next cold start (the fix is written and pending): offer that, not a fix. */
  fixPending: boolean;
}

export function hardwareNotes(vm: VmReport): HardwareNotes {
  const disks = new Map<string, string[]>();
  const startErrors = new Map<string, string[]>();
  for (const d of vm.disks) {
    const notes = diskNotes(d);
    if (notes.length > 0) disks.set(d.key, notes);
    // Also for empty and pending-only drives: `none` on SCSI without media=cdrom is itself a start error.
    const errors = startErrorLines(d, nextFacts(d));
    if (errors.length > 0) startErrors.set(d.key, errors);
  }
  // The EFI disk and TPM state rows: what vm_start refuses about their volumes.
  // A volume can have several (its storage disabled and without the content type): each is a line.
  for (const v of vm.volumeStartErrors ?? []) startErrors.set(v.key, [...(startErrors.get(v.key) ?? []), ...startErrorLines({ startError: v.error }, null)]);
  const ignored = vm.disks.filter((d) => !d.onlyPending).map((d) => findDeviation(d, 'scsihw-not-single')).filter((x) => x !== undefined);
  const count = (n: number): string => `${n} disk${n === 1 ? '' : 's'}`;
  const deviating = vm.disks.filter((d) => disks.has(d.key));
  const fixPending = deviating.length > 0 && deviating.every((d) => {
    const next = nextFacts(d);
    return next !== null && !iothreadCell(next).marked && !aioCell(next).marked;
  });
  const hint = ignored.length > 0 ? `${deviationText(ignored[0]!)} (${count(ignored.length)})` : `${count(disks.size)} run differently than configured`;
  // The controller row speaks of the ignored IO threads: a pending scsihw change ends those even when
  // another difference (an aio default) stays, and then the fix still offered is for that one.
  const ignoredEnded =
    ignored.length > 0 &&
    vm.disks.every((d) => d.onlyPending || findDeviation(d, 'scsihw-not-single') === undefined || (nextFacts(d) !== null && !iothreadCell(nextFacts(d)!).marked));
  const scsihw = disks.size === 0 ? null : fixPending || ignoredEnded ? `${hint}; the pending changes end this at the next cold start` : hint;
  return { disks, startErrors, scsihw, fixPending };
}
