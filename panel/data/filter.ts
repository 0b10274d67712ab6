// SPDX-License-Identifier: AGPL-3.0-or-later
/** Pure helpers of the fleet table: filtering, what to mark, how PVE would print a value. */
import type { DiskFacts, DiskReport, RiskLevel, VmReport } from '../../src/analysis/types.js';
import type { FleetFilter } from '../events.js';
import { RISK_LABEL } from '../strings.js';

export const EMPTY_FILTER: FleetFilter = { node: '', risk: '', text: '' };

export function riskOf(vm: VmReport): RiskLevel {
  return vm.risk?.level ?? 'unknown';
}

export function isFilterActive(f: FleetFilter): boolean {
  return f.node !== '' || f.risk !== '' || f.text.trim() !== '';
}

/** VMs that pass `f`. */
export function filterVms(vms: readonly VmReport[], f: FleetFilter): VmReport[] {
  const text = f.text.trim().toLowerCase();
  return vms.filter(
    (vm) =>
      (f.node === '' || vm.node === f.node) &&
      (f.risk === '' || riskOf(vm) === f.risk) &&
      (text === '' || String(vm.vmid).includes(text) || (vm.name ?? '').toLowerCase().includes(text)),
  );
}

/** "node pve2, risk Critical and "db"": the filter in words, for the filtered-empty message. */
export function describeFilter(f: FleetFilter): string {
  const parts: string[] = [];
  if (f.node) parts.push(`node ${f.node}`);
  if (f.risk) parts.push(`risk ${RISK_LABEL[f.risk]}`);
  if (f.text.trim()) parts.push(`"${f.text.trim()}"`);
  return parts.length <= 1 ? (parts[0] ?? 'the filter') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
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
