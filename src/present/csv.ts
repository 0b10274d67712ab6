// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The CSV of an audit, one writer for the CLI's `--format csv` and the panel's export: one row per
 * disk (RFC 4180 quoting), VM fields and risk repeated on each row; a VM without disks gets one row
 * with empty disk fields. A fact that could not be determined reads `unknown`, and the `unknown` / `pending_unknown` columns say why.
 */
import { unknownReason } from '../analysis/disk-status.js';
import type { AuditReport, DiskFacts, DiskReport, UnknownFact, VmReport } from '../analysis/types.js';
import { notesOf } from './deviations.js';

export const CSV_COLUMNS = [
  'vmid',
  'name',
  'node',
  'status',
  'source',
  'scsihw',
  'machine',
  'disk',
  'bus',
  'media',
  'volume',
  'storage',
  'storage_type',
  'cache',
  'qemu_device',
  'controller',
  'controller_id',
  'iothread_configured',
  'iothread_effective',
  'aio_configured',
  'aio_effective',
  'cache_direct',
  'start_error',
  'notes',
  'pending',
  'pending_qemu_device',
  'pending_controller',
  'pending_controller_id',
  'pending_iothread_effective',
  'pending_aio_effective',
  'pending_cache_direct',
  'pending_start_error',
  'unknown',
  'pending_unknown',
  'risk_level',
  'risk_reasons',
] as const;

type Value = string | number | boolean | null | undefined;

function field(v: Value): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function pendingState(d: DiskReport): string {
  if (!d.pending) return '';
  if ('deleted' in d.pending) return 'deleted';
  return d.onlyPending ? 'new' : 'changed';
}

/** A fact that could not be determined reads `unknown` (an empty cell means none / not applicable). */
function known<T extends Value>(f: DiskFacts | null, field: UnknownFact['field'], value: T): T | 'unknown' {
  return f !== null && unknownReason(f, field) !== null ? 'unknown' : value;
}

/** `aio: why; cacheDirect: why` for the `unknown` columns. */
function unknownList(f: DiskFacts | null): string | null {
  return f?.unknown?.map((u) => `${u.field}: ${u.reason}`).join('; ') ?? null;
}

function row(vm: VmReport, d: DiskReport): Value[] {
  const p: DiskFacts | null = d.pending && !('deleted' in d.pending) ? d.pending : null;
  return [
    vm.vmid,
    vm.name,
    vm.node,
    vm.status,
    vm.source,
    vm.scsihw.effective,
    vm.machine.version,
    d.key,
    d.bus,
    d.media,
    d.volume,
    d.storage,
    d.storageType,
    d.cache,
    known(d, 'qemuDevice', d.qemuDevice),
    d.controller,
    d.controllerId,
    d.onlyPending ? null : d.iothread.configured,
    d.onlyPending ? null : d.iothread.effective,
    d.aio.configured,
    known(d, 'aio', d.aio.effective),
    known(d, 'cacheDirect', d.cacheDirect),
    d.startError,
    notesOf(d).join('; '),
    pendingState(d),
    known(p, 'qemuDevice', p?.qemuDevice),
    p?.controller,
    p?.controllerId,
    p?.iothread.effective,
    known(p, 'aio', p?.aio.effective),
    known(p, 'cacheDirect', p?.cacheDirect),
    p?.startError,
    unknownList(d.onlyPending ? null : d),
    unknownList(p),
    ...riskFields(vm),
  ];
}

/** The VM's level and its reasons as `CODE disk` (worst first), repeated on each of its rows. */
function riskFields(vm: VmReport): Value[] {
  if (!vm.risk) return [null, null];
  return [vm.risk.level, vm.risk.reasons.map((r) => (r.disk ? `${r.code} ${r.disk}` : r.code)).join('; ')];
}

/** A VM without disks: its own fields, empty disk fields, so no VM is missing from the CSV. */
function vmOnlyRow(vm: VmReport): Value[] {
  const fields: Value[] = [vm.vmid, vm.name, vm.node, vm.status, vm.source, vm.scsihw.effective, vm.machine.version];
  const diskFields = CSV_COLUMNS.length - fields.length - 2;
  return [...fields, ...new Array<Value>(diskFields).fill(null), ...riskFields(vm)];
}

/** Renders the report as CSV with a header line (ends with CRLF-free `\n` lines). */
export function formatCsv(report: AuditReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const vm of report.vms) {
    if (vm.disks.length === 0) lines.push(vmOnlyRow(vm).map(field).join(','));
    for (const d of vm.disks) lines.push(row(vm, d).map(field).join(','));
  }
  return lines.join('\n') + '\n';
}
