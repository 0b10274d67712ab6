// SPDX-License-Identifier: AGPL-3.0-or-later
/** Pure helpers of the fleet views: what to mark, how PVE would print a value. */
import type { DiskFacts, DiskReport, RiskLevel, VmReport } from '../../src/analysis/types.js';

export function riskOf(vm: VmReport): RiskLevel {
  return vm.risk?.level ?? 'unknown';
}

/** Nodes present in the report, sorted. */
export function nodesOf(vms: readonly VmReport[]): string[] {
  return [...new Set(vms.map((vm) => vm.node).filter((n): n is string => !!n))].sort();
}

/** `on`/`off` for iothread. */
export function onOff(b: boolean): string {
  return b ? 'on' : 'off';
}

/**
 * True where QEMU runs something else than the config says: `iothread=1` ignored (no
 * virtio-scsi-single), or an aio mode replaced. With no `aio` configured, PVE's UI shows
 * "Default (io_uring)", so an effective mode other than io_uring is marked too.
 */
export function iothreadDiffers(f: DiskFacts): boolean {
  return f.iothread.configured !== f.iothread.effective;
}

export function aioDiffers(f: DiskFacts): boolean {
  if (f.aio.effective === null) return false;
  return (f.aio.configured ?? 'io_uring') !== f.aio.effective;
}

/** The disk a set of facts belongs to (for the facts of the pending config too). */
export type DiskOf = Pick<DiskReport, 'media' | 'volume' | 'storageType'>;

/** True for a CD/DVD drive set to "Do not use any media" (`none`): QEMU gets no block node. */
export function isEmptyDrive(disk: DiskOf): boolean {
  return disk.media === 'cdrom' && disk.volume === 'none';
}

/**
 * The effective aio as a PVE admin reads it. A null mode means one of three things, never the
 * aio mode "none": an empty drive, a storage whose QEMU driver has no aio (librbd, iSCSI, NBD,
 * PBS; PVE-FACTS §3.3), or a fact we could not determine.
 */
export function aioEffectiveText(f: DiskFacts, disk: DiskOf): string {
  if (f.aio.effective !== null) return f.aio.effective;
  if (isEmptyDrive(disk)) return 'no medium';
  if (f.unknown?.some((u) => u.field === 'aio')) return 'unknown';
  return `no aio${disk.storageType ? ` (${disk.storageType})` : ''}`;
}

/** One line of disk facts, as the table prints it: the disk's current facts, or `f` (its pending ones). */
export function diskFactsText(disk: DiskReport, f: DiskFacts = disk): string {
  const dev = f.qemuDevice ?? '-';
  const head = `${dev}${f.controller ? ` on ${f.controller}` : ''}`;
  if (isEmptyDrive(disk)) return `${head}, no medium`;
  const aio = aioEffectiveText(f, disk);
  return `${head}, iothread ${onOff(f.iothread.effective)}, ${aio === 'unknown' ? 'aio unknown' : aio.startsWith('no aio') ? aio : `aio ${aio}`}`;
}
