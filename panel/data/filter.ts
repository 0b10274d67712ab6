// SPDX-License-Identifier: AGPL-3.0-or-later
/** Pure helpers of the fleet table: filtering, what to mark, how PVE would print a value. */
import type { DiskFacts, RiskLevel, VmReport } from '../../src/analysis/types.js';
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

/** One line of disk facts, as the table prints it. */
export function diskFactsText(f: DiskFacts): string {
  const dev = f.qemuDevice ?? '-';
  return `${dev}${f.controller ? ` on ${f.controller}` : ''}, iothread ${onOff(f.iothread.effective)}, aio ${f.aio.effective ?? 'none'}`;
}
