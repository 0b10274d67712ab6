// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Text views of a migration plan and of an apply/rollback summary, the way PVE shows pending
 * config (PWT PendingObjectGrid): the current value, then the new value below it in orange; a
 * removal struck through. Without colour (pipes, NO_COLOR) the new value is marked `→` and a
 * removal `(removed)`, so nothing depends on the terminal. The words are the panel's: a VM is
 * "converted", never "migrated" (a live migration to a PVE admin; src/present/outcome.ts).
 */
import { outcomeWords } from '../present/outcome.js';
import type { RunSummary, VmResult } from './runner.js';
import type { MigrationPlan, VmPlan } from './types.js';

export interface FormatOptions {
  /** ANSI colours and strike-through. */
  color: boolean;
}

const ANSI = {
  orange: '\x1b[38;5;208m',
  strike: '\x1b[9m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  yellow: '\x1b[33m',
  green: '\x1b[32m',
  bold: '\x1b[1m',
  reset: '\x1b[0m',
};

function paint(o: FormatOptions, style: keyof typeof ANSI, text: string): string {
  return o.color ? `${ANSI[style]}${text}${ANSI.reset}` : text;
}

function vmTitle(vm: VmPlan): string {
  const where = [vm.node, vm.status].filter(Boolean).join(', ');
  return `VM ${vm.vmid}${vm.name ? ` ${vm.name}` : ''} (${where})`;
}

/**
 * A VM with nothing to write only because its disks are on SATA/IDE: not "already done", since
 * SATA and IDE disks cannot get an IO thread at all (the controller is irrelevant to them).
 */
function leftOnSataIde(vm: VmPlan): boolean {
  return vm.path === 'none' && vm.blocked.length === 0 && vm.warnings.some((g) => g.code === 'IDE_SATA_NOT_MOVED');
}

function verdict(vm: VmPlan): string {
  if (vm.blocked.length > 0) return 'blocked';
  if (leftOnSataIde(vm)) {
    return 'nothing this plan changes: SATA/IDE disks cannot get an IO thread (--convert-sata / --convert-ide moves data disks to SCSI)';
  }
  if (vm.path === 'none') return 'nothing to do';
  // Written by an earlier run (or by hand) and sitting in [PENDING]: apply only cold-starts it.
  const written = vm.changes.length > 0 && vm.changes.every((c) => c.alreadyPending);
  const parts = [written ? 'already written (pending)' : vm.path === 'staged' ? 'staged (Windows driver)' : 'one write'];
  parts.push(vm.coldStartNeeded ? 'cold start needed' : 'no cold start needed');
  return parts.join(', ');
}

/** One VM: title, key diff, gates, steps. */
export function formatVmPlan(vm: VmPlan, o: FormatOptions): string {
  const lines: string[] = [];
  const state = verdict(vm);
  const stateColor = vm.blocked.length > 0 ? 'red' : vm.path === 'none' ? 'dim' : 'green';
  lines.push(`${paint(o, 'bold', vmTitle(vm))}  ${paint(o, stateColor, state)}`);
  const width = Math.max(6, ...vm.changes.map((c) => c.key.length));
  for (const c of vm.changes) {
    const key = c.key.padEnd(width);
    const pad = ' '.repeat(width);
    if (c.after === null) {
      const old = c.before ?? '';
      lines.push(`  ${key}  ${o.color ? paint(o, 'strike', old) : `${old}  (removed)`}`);
      continue;
    }
    lines.push(`  ${key}  ${c.before === null ? paint(o, 'dim', '(not set)') : c.before}`);
    const mark = c.alreadyPending ? ' (pending)' : '';
    lines.push(`  ${pad}${o.color ? '  ' : '→ '}${paint(o, 'orange', c.after)}${mark}`);
  }
  for (const g of vm.blocked) {
    lines.push(`  ${paint(o, 'red', `blocked ${g.code}`)}: ${g.message}`);
    if (g.fix) lines.push(`    fix: ${g.fix}`);
    if (g.override) lines.push(`    override: ${g.override}`);
  }
  for (const g of vm.warnings) {
    lines.push(`  ${paint(o, 'yellow', `warning ${g.code}`)}: ${g.message}`);
    if (g.fix) lines.push(`    fix: ${g.fix}`);
  }
  if (vm.steps.length > 1 || vm.path === 'staged') {
    for (const s of vm.steps) lines.push(`  ${paint(o, 'dim', `step ${s.n}`)} ${s.kind}: ${s.description}`);
  }
  return lines.join('\n');
}

/** The whole plan plus a one-line total. */
export function formatPlan(plan: MigrationPlan, o: FormatOptions): string {
  const out = plan.vms.map((vm) => formatVmPlan(vm, o));
  const eligible = plan.vms.filter((v) => v.eligible).length;
  const blocked = plan.vms.filter((v) => v.blocked.length > 0).length;
  const stuck = plan.vms.filter(leftOnSataIde).length;
  const none = plan.vms.filter((v) => v.path === 'none' && v.blocked.length === 0).length - stuck;
  const cold = plan.vms.filter((v) => v.eligible && v.coldStartNeeded).length;
  const filtered = plan.filtered?.length ?? 0;
  out.push(
    `${plan.vms.length} VM${plan.vms.length === 1 ? '' : 's'}: ${eligible} to convert (${cold} need a cold start), ` +
      `${blocked} blocked, ${none} already done${stuck > 0 ? `, ${stuck} left on SATA/IDE (no IO thread possible; see --convert-sata)` : ''}${filtered > 0 ? `; ${filtered} below --min-risk ${plan.options.minRisk}` : ''}. ` +
      `aio=${plan.aio}.`,
  );
  return out.join('\n\n') + '\n';
}

const ORDER: VmResult['result'][] = ['migrated', 'restored', 'pending-reboot', 'awaiting-confirmation', 'skipped', 'failed'];

/** Final summary of an apply/rollback: one group per outcome, every VM with its reason. */
export function formatSummary(summary: RunSummary, o: FormatOptions & { journal?: string }): string {
  const lines: string[] = [];
  for (const kind of ORDER) {
    const rs = summary.results.filter((r) => r.result === kind).sort((a, b) => a.vmid - b.vmid);
    if (rs.length === 0) continue;
    const style = kind === 'failed' ? 'red' : kind === 'skipped' || kind === 'awaiting-confirmation' || kind === 'pending-reboot' ? 'yellow' : 'green';
    lines.push(paint(o, style, `${outcomeWords(kind)}: ${rs.length}`));
    for (const r of rs) lines.push(`  ${r.vmid}${r.node ? ` (${r.node})` : ''}${r.reason ? `: ${r.reason}` : ''}`);
  }
  if (summary.results.length === 0) lines.push('no VMs');
  const pending = summary.results.filter((r) => r.result === 'pending-reboot').length;
  if (pending > 0) {
    lines.push(
      `next: re-run the same command with --reboot now to cold start the ${pending} VM${pending === 1 ? '' : 's'} pending reboot ` +
        '(API reboot: shutdown, then a fresh start)',
    );
  }
  if (o.journal) lines.push(`journal: ${o.journal}`);
  return lines.join('\n') + '\n';
}
