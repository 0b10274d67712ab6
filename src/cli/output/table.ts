// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The default audit output: one block per VM, one row per disk. Values that differ from what the
 * config suggests are marked; pending facts read `now → after cold start`.
 */
import type { AuditReport, DiskFacts, DiskReport, VmReport } from '../../analysis/types.js';
import { type Cell, aioCell, cacheCell, controllerCell, deviceCell, iothreadCell, unknownCell } from './cells.js';
import { escapeControl } from './issues.js';
import { riskSummaryLine, riskTotals } from './risk.js';
import { type Style, makeStyle, padEnd, visibleLength } from './style.js';

const HEADERS = ['DISK', 'VOLUME', 'DEVICE', 'CONTROLLER', 'IOTHREAD', 'AIO', 'CACHE'] as const;

interface FactColumn {
  cell(f: DiskFacts, cache: string | null): Cell;
  /** Text for the after-cold-start side (the pending drive's cache mode is not part of the facts). */
  next(f: DiskFacts): string;
}

const simple = (cell: (f: DiskFacts) => Cell): FactColumn => ({ cell, next: (f) => cell(f).text });
const FACT_COLUMNS: FactColumn[] = [
  simple(deviceCell),
  simple(controllerCell),
  simple(iothreadCell),
  simple(aioCell),
  {
    cell: cacheCell,
    next: (f) => unknownCell(f, 'cacheDirect')?.text ?? (f.qemuDevice === null || f.cacheDirect === null ? '—' : f.cacheDirect ? 'direct' : 'not direct'),
  },
];

interface Row {
  cells: string[];
  /** Lines printed under the row (start errors, why a disk is not attached). */
  extra: string[];
}

function plain(cell: Cell, style: Style): string {
  return cell.marked ? style.marked(cell.text) : cell.text;
}

function diskRow(d: DiskReport, style: Style): Row {
  const extra: string[] = [];
  const label = d.onlyPending ? `${d.key} (new)` : d.key;
  const cells: string[] = [label, d.volume];
  const pending = d.pending && !('deleted' in d.pending) ? d.pending : null;
  for (const column of FACT_COLUMNS) {
    const now = column.cell(d, d.cache);
    if (!pending) {
      cells.push(plain(now, style));
    } else if (d.onlyPending) {
      cells.push(style.pending(`→ ${column.next(pending)}`));
    } else if (column.next(d) === column.next(pending)) {
      cells.push(plain(now, style));
    } else {
      cells.push(`${plain(now, style)} ${style.pending(`→ ${column.next(pending)}`)}`);
    }
  }
  if (d.pending && 'deleted' in d.pending) extra.push(style.pending('→ removed at the next cold start'));
  if (!d.onlyPending && d.qemuDevice === null && !unknownCell(d, 'qemuDevice')) {
    const why = d.notes.find((n) => n.startsWith('not given to QEMU: '));
    if (why) extra.push(style.marked(`! ${why}`));
  }
  if (d.startError) extra.push(style.error(`✗ the VM does not start: ${d.startError}`));
  if (pending?.startError && pending.startError !== d.startError) {
    extra.push(style.error(`✗ after the next cold start the VM does not start: ${pending.startError}`));
  }
  return { cells, extra };
}

function vmHeader(vm: VmReport, style: Style): string {
  const parts = [style.bold(`VM ${vm.vmid}${vm.name ? ` ${vm.name}` : ''}`)];
  parts.push(vm.node ? `node ${vm.node}` : 'node ?');
  // Offline the files do not say whether the VM runs; a bare "unknown" reads like the risk level.
  parts.push(vm.status === 'unknown' ? (vm.source === 'api' ? 'run state unknown' : 'run state unknown (files only)') : vm.status);
  if (vm.template) parts.push(style.marked('template'));
  if (vm.lock) parts.push(style.marked(`lock ${vm.lock}`));
  let scsihw = `scsihw ${vm.scsihw.effective}${vm.scsihw.configured === null ? ' (default)' : ''}`;
  if (vm.scsihw.pending) scsihw += ` ${style.pending(`→ ${vm.scsihw.pending.effective}`)}`;
  parts.push(scsihw);
  let machine = `${vm.machine.type} ${vm.machine.version} ${vm.machine.blockdev ? '-blockdev' : '-drive'}`;
  if (vm.machine.pending) {
    machine += ` ${style.pending(`→ ${vm.machine.pending.type} ${vm.machine.pending.version} ${vm.machine.pending.blockdev ? '-blockdev' : '-drive'}`)}`;
  }
  parts.push(machine);
  const problems = vm.issues.length;
  if (problems > 0) parts.push(style.marked(`${problems} config issue${problems === 1 ? '' : 's'} (on stderr)`));
  return parts.join(' · ');
}

/** Config files (offline) or VM paths (online) that errors kept out of the report. */
function notAudited(report: AuditReport): string[] {
  const sources = report.errors
    .filter((e) => e.severity === 'error' && e.source !== undefined && /(?:\.conf|\/qemu\/\d+)$/.test(e.source))
    .map((e) => escapeControl(e.source as string));
  return [...new Set(sources)];
}

/** Renders the whole report as text (ends with a newline). */
export function formatTable(report: AuditReport, opts: { color: boolean }): string {
  const style = makeStyle(opts.color);
  const blocks = report.vms.map((vm) => ({ vm, rows: vm.disks.map((d) => diskRow(d, style)) }));
  const widths: number[] = HEADERS.map((h) => h.length);
  for (const { rows } of blocks) {
    for (const row of rows) row.cells.forEach((c, i) => (widths[i] = Math.max(widths[i] as number, visibleLength(c))));
  }
  const line = (cells: string[]) =>
    ('  ' + cells.map((c, i) => (i === cells.length - 1 ? c : padEnd(c, widths[i] as number))).join('  ')).trimEnd();

  const out: string[] = [];
  for (const { vm, rows } of blocks) {
    out.push(vmHeader(vm, style));
    const risk = riskSummaryLine(vm, style);
    if (risk) out.push(risk);
    if (rows.length === 0) {
      out.push(style.dim('  (no disks on a controller)'));
    } else {
      out.push(style.dim(line([...HEADERS])));
      for (const row of rows) {
        out.push(line(row.cells));
        for (const extra of row.extra) out.push(`${' '.repeat((widths[0] as number) + 4)}${extra}`);
      }
    }
    out.push('');
  }
  const totals = riskTotals(report);
  if (totals) out.push(totals);
  const missing = notAudited(report);
  if (missing.length > 0) {
    out.push(style.error(`not audited: ${missing.length} VM config${missing.length === 1 ? '' : 's'} (errors on stderr): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`));
  }
  for (const a of report.assumptions) out.push(style.dim(`note: ${a}`));
  if (report.vms.length > 0) out.push(style.dim('details of one VM: pve-dataplane audit … --explain VMID'));
  return out.join('\n') + '\n';
}
