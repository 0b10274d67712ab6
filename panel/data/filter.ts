// SPDX-License-Identifier: AGPL-3.0-or-later
/** Pure helpers of the fleet views: what to mark, how PVE would print a value. */
import type { DiskFacts, DiskReport, RiskLevel, VmReport } from '../../src/analysis/types.js';
import { cacheCell, differenceMarks, diskSummary } from '../../src/present/disk-facts.js';
import { diskLabel } from '../strings.js';

export function riskOf(vm: VmReport): RiskLevel {
  return vm.risk?.level ?? 'unknown';
}

/** Nodes present in the report, sorted. */
export function nodesOf(vms: readonly VmReport[]): string[] {
  return [...new Set(vms.map((vm) => vm.node).filter((n): n is string => !!n))].sort();
}

/** What QEMU runs otherwise than configured: decided by the one renderer of facts. */
export { aioDiffers, iothreadDiffers } from '../../src/present/disk-facts.js';

/** The disk a set of facts belongs to (for the facts of the pending config too). */
export type DiskOf = Pick<DiskReport, 'media' | 'volume' | 'storageType'>;

/** True for a CD/DVD drive set to "Do not use any media" (`none`): QEMU gets no block node. */
export function isEmptyDrive(disk: DiskOf): boolean {
  return disk.media === 'cdrom' && disk.volume === 'none';
}

/** One line of disk facts, as the table prints it: the disk's current facts, or `f` (its pending ones). */
export function diskFactsText(disk: DiskReport, f: DiskFacts = disk): string {
  // `disk` names the drive; its facts (or the pending ones) carry everything the line says.
  return diskSummary(f);
}

/** The effective cache as the CLI words it (`direct (default)`, `default → not direct (cdrom)`); `marked` when it is not what the config suggests. */
export function cacheText(f: DiskFacts): { text: string; marked: boolean } {
  return cacheCell(f);
}

/** One disk as a fleet grid row prints it, worded once when the VM's config arrives (not per frame). */
export interface DiskLine {
  key: string;
  cdrom: boolean;
  /** "Hard Disk (scsi0): local-lvm:vm-100-disk-0" */
  title: string;
  /** The current facts, `-` for a disk that exists only in [PENDING]. */
  current: string;
  /** The disk is deleted in [PENDING] (struck through). */
  deleted: boolean;
  /** The pending facts when they read otherwise than the current ones. */
  pending: string | null;
  /** ⚑ what QEMU runs otherwise than configured. */
  marks: readonly string[];
}

export function diskLine(d: DiskReport): DiskLine {
  const pendingFacts = d.pending && !('deleted' in d.pending) ? (d.pending as DiskFacts) : undefined;
  const current = d.onlyPending ? '-' : diskFactsText(d);
  const pending = pendingFacts ? diskFactsText(d, pendingFacts) : null;
  return {
    key: d.key,
    cdrom: d.media === 'cdrom',
    title: `${diskLabel(d.key, d.media)}: ${d.volume}`,
    current,
    deleted: d.pending !== undefined && 'deleted' in d.pending,
    pending: pending !== null && pending !== current ? pending : null,
    marks: d.onlyPending ? [] : differenceMarks(d),
  };
}
