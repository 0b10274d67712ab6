// SPDX-License-Identifier: AGPL-3.0-or-later
/** Pure helpers of the fleet views: what to mark, how PVE would print a value. */
import type { DiskFacts, DiskReport, RiskLevel, VmReport } from '../../src/analysis/types.js';
import { cacheCell, diskSummary } from '../../src/present/disk-facts.js';

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
