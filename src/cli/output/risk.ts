// SPDX-License-Identifier: AGPL-3.0-or-later
/** Risk in the text outputs: one line per VM in the table, every reason in `--explain`. */
import type { AuditReport, RiskLevel, RiskReason, VmReport } from '../../analysis/types.js';
import type { Style } from './style.js';

/** Icon plus text, as PVE shows health (check / exclamation / times / question). */
const ICON: Record<RiskLevel, string> = { critical: '✗', warning: '!', unknown: '?', info: 'i', ok: '✓' };

function levelText(level: RiskLevel, style: Style): string {
  const text = `${ICON[level]} ${level}`;
  if (level === 'critical') return style.error(text);
  if (level === 'warning') return style.marked(text);
  if (level === 'unknown' || level === 'info') return style.dim(text);
  return text;
}

function reasonHead(r: RiskReason): string {
  return `${r.code}${r.disk ? ` ${r.disk}` : ''}`;
}

/** `risk ! warning  MAIN_LOOP_IO scsi0: scsi0 has no IO thread… (+2 more)` — the table line of a VM. */
export function riskSummaryLine(vm: VmReport, style: Style): string | null {
  const risk = vm.risk;
  if (!risk) return null;
  const top = risk.reasons[0];
  if (!top) return `  risk ${levelText(risk.level, style)}`;
  const more = risk.reasons.length - 1;
  return `  risk ${levelText(risk.level, style)}  ${style.bold(reasonHead(top))}: ${top.message}${more > 0 ? style.dim(` (+${more} more)`) : ''}`;
}

/** `risk: 1 critical, 4 warning, 2 unknown, 0 info, 3 ok` over the whole report. */
export function riskTotals(report: AuditReport): string | null {
  const levels: RiskLevel[] = ['critical', 'warning', 'unknown', 'info', 'ok'];
  const counts = new Map<RiskLevel, number>(levels.map((l) => [l, 0]));
  let any = false;
  for (const vm of report.vms) {
    if (!vm.risk) continue;
    any = true;
    counts.set(vm.risk.level, counts.get(vm.risk.level)! + 1);
  }
  return any ? `risk: ${levels.map((l) => `${counts.get(l)} ${l}`).join(', ')} (docs/risk-model.md)` : null;
}

/** Every reason with its evidence and fix, and what could not be checked (for `--explain`). */
export function riskExplainLines(vm: VmReport, style: Style): string[] {
  const risk = vm.risk;
  if (!risk) return [];
  const out = [`  risk         ${levelText(risk.level, style)}`];
  if (risk.reasons.length === 0) out.push('    no reasons found');
  for (const r of risk.reasons) {
    out.push(`    ${levelText(r.severity, style)}  ${style.bold(reasonHead(r))}`);
    out.push(`      ${r.message}`);
    for (const e of r.evidence) out.push(style.dim(`      ${e.kind.padEnd(9)} ${e.label}: ${e.value}`));
    out.push(`      fix: ${r.fix}`);
  }
  if (risk.unavailable && risk.unavailable.length > 0) {
    out.push('    not checked:');
    for (const u of risk.unavailable) out.push(`      ${u}`);
  }
  return out;
}
