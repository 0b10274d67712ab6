// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the fleet table shows: the filter (text, node, risk, quick filters), the sort, and the VM
 * whose details are open. Pure functions over `FleetRow`s, precomputed once per VM so a keystroke
 * at 5,000 VMs is one pass over short strings and a sort over numbers.
 */
import type { RiskLevel, VmInput, VmReport } from '../../src/analysis/types.js';
import { RISK_LABEL, RISK_ORDER, scsihwLabel } from '../strings.js';
import { type DiskLine, aioDiffers, diskLine, iothreadDiffers, riskOf } from './filter.js';

/** Quick filters: one click narrows the fleet to what needs attention. */
export type QuickFilter = 'cold-start' | 'iothread-ignored' | 'aio-mislabelled' | 'templates';
export const QUICK_FILTERS: readonly QuickFilter[] = ['cold-start', 'iothread-ignored', 'aio-mislabelled', 'templates'];

/** Sortable columns (`aria-sort`). */
export type SortKey = 'vmid' | 'name' | 'node' | 'status' | 'risk' | 'controller';
export const SORT_KEYS: readonly SortKey[] = ['vmid', 'name', 'node', 'status', 'risk', 'controller'];
export interface FleetSort {
  key: SortKey;
  dir: 'asc' | 'desc';
}

export interface FleetQuery {
  /** VMID or name, case-insensitive substring. */
  text: string;
  node: string;
  risk: RiskLevel | '';
  /** All of these must hold (AND). */
  quick: readonly QuickFilter[];
  sort: FleetSort;
  /** The VM whose details are open. */
  vm: number | null;
}

export const DEFAULT_SORT: FleetSort = { key: 'vmid', dir: 'asc' };
export const EMPTY_QUERY: FleetQuery = { text: '', node: '', risk: '', quick: [], sort: DEFAULT_SORT, vm: null };

/** One VM with what filtering and sorting read, computed once when its config arrives. */
export interface FleetRow {
  vm: VmReport;
  /** `"100 db1"`, lower case. */
  search: string;
  /** Keys PVE has pending (set or delete) for this VM, whoever wrote them. */
  pendingKeys: string[];
  /** Our target already sits in [PENDING] (`scsihw: virtio-scsi-single` pending): written, not yet running. */
  oursPending: boolean;
  iothreadIgnored: boolean;
  aioMislabelled: boolean;
  controller: string;
  /** The pending SCSI Controller, in PVE's words, when one is pending. */
  controllerPending: string | null;
  /** Each disk's line in the grid. */
  disks: readonly DiskLine[];
  /** True while the row's risk is from its config alone (the evidence of a load still being read). */
  preliminary?: boolean;
}

/** The row of `vm`; `input` (the raw `/pending` answer) tells every pending key, not only disk ones. */
export function fleetRow(vm: VmReport, input: VmInput | undefined): FleetRow {
  const pendingKeys = input
    ? [...Object.keys(input.pending), ...input.deletes.map((d) => d.key)].filter((k, i, all) => all.indexOf(k) === i).sort()
    : vm.pendingDataplaneChanges
      ? ['scsihw']
      : [];
  const live = vm.disks.filter((d) => !d.onlyPending);
  return {
    vm,
    search: `${vm.vmid} ${(vm.name ?? '').toLowerCase()}`,
    pendingKeys,
    oursPending: vm.scsihw.pending?.configured === 'virtio-scsi-single',
    iothreadIgnored: live.some(iothreadDiffers),
    aioMislabelled: live.some(aioDiffers),
    controller: scsihwLabel(vm.scsihw.configured),
    controllerPending: vm.scsihw.pending ? scsihwLabel(vm.scsihw.pending.configured) : null,
    disks: vm.disks.map(diskLine),
  };
}

const QUICK_TEST: Record<QuickFilter, (r: FleetRow) => boolean> = {
  'cold-start': (r) => r.pendingKeys.length > 0,
  'iothread-ignored': (r) => r.iothreadIgnored,
  'aio-mislabelled': (r) => r.aioMislabelled,
  templates: (r) => r.vm.template,
};

export function isQueryFiltering(q: FleetQuery): boolean {
  return q.node !== '' || q.risk !== '' || q.text.trim() !== '' || q.quick.length > 0;
}

/** Rows that pass the filter of `q`, in its sort order (a new array; `rows` is not touched). */
export function queryRows(rows: readonly FleetRow[], q: FleetQuery): FleetRow[] {
  return sortRows(filterRows(rows, q), q.sort);
}

/** Rows that pass the filter of `q`, in the order of `rows` (one pass over precomputed fields). */
export function filterRows(rows: readonly FleetRow[], q: Omit<FleetQuery, 'sort' | 'vm'>): FleetRow[] {
  const text = q.text.trim().toLowerCase();
  const quick = q.quick.map((k) => QUICK_TEST[k]);
  return rows.filter(
    (r) =>
      (q.node === '' || r.vm.node === q.node) &&
      (q.risk === '' || riskOf(r.vm) === q.risk) &&
      (text === '' || r.search.includes(text)) &&
      quick.every((t) => t(r)),
  );
}

const RISK_RANK = new Map(RISK_ORDER.map((r, i) => [r, i]));
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Sorts in place; ties fall back to the VMID so the order is stable across loads. */
export function sortRows(rows: FleetRow[], sort: FleetSort): FleetRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const byId = (a: FleetRow, b: FleetRow) => a.vm.vmid - b.vm.vmid;
  const cmp: Record<SortKey, (a: FleetRow, b: FleetRow) => number> = {
    vmid: byId,
    name: (a, b) => collator.compare(a.vm.name ?? '', b.vm.name ?? ''),
    node: (a, b) => collator.compare(a.vm.node ?? '', b.vm.node ?? ''),
    status: (a, b) => collator.compare(a.vm.status, b.vm.status),
    // Ascending = worst first (Critical before OK), as an admin triages.
    risk: (a, b) => RISK_RANK.get(riskOf(a.vm))! - RISK_RANK.get(riskOf(b.vm))!,
    controller: (a, b) => collator.compare(a.controller, b.controller),
  };
  const c = cmp[sort.key];
  return rows.sort((a, b) => sign * c(a, b) || byId(a, b));
}

/** "node pve2, risk Critical, needs a cold start and "db"": the filter in words. */
export function describeQuery(q: FleetQuery, quickLabel: Record<QuickFilter, string>): string {
  const parts: string[] = [];
  if (q.node) parts.push(`node ${q.node}`);
  if (q.risk) parts.push(`risk ${RISK_LABEL[q.risk]}`);
  for (const k of q.quick) parts.push(quickLabel[k].toLowerCase());
  if (q.text.trim()) parts.push(`"${q.text.trim()}"`);
  return parts.length <= 1 ? (parts[0] ?? 'the filter') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
