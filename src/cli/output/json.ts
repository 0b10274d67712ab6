// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `--format json`: the AuditReport as ARCHITECTURE.md specifies it. The one place where the wire
 * shape differs from the in-memory report: a disk that exists only after the pending changes has its
 * current facts `null` (the report keeps typed placeholders so presenters need no null checks).
 */
import type { AuditReport, DiskReport, VmReport } from '../../analysis/types.js';

type JsonDisk = Omit<DiskReport, 'iothread' | 'aio'> & {
  iothread: DiskReport['iothread'] | null;
  aio: DiskReport['aio'] | null;
};

function diskJson(d: DiskReport): DiskReport | JsonDisk {
  if (!d.onlyPending) return d;
  return { ...d, qemuDevice: null, controller: null, controllerId: null, iothread: null, aio: null, cacheDirect: null, cache: null };
}

export function vmJson(vm: VmReport): unknown {
  return { ...vm, disks: vm.disks.map(diskJson) };
}

export function formatJson(report: AuditReport): string {
  return JSON.stringify({ ...report, vms: report.vms.map(vmJson) }, null, 2) + '\n';
}

export function formatVmJson(vm: VmReport): string {
  return JSON.stringify(vmJson(vm), null, 2) + '\n';
}
