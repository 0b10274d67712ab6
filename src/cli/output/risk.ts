// SPDX-License-Identifier: AGPL-3.0-or-later
/** Risk in the text outputs: one line per VM in the table, every reason in `--explain`. */
import type { RiskLevel, RiskReason, VmReport } from '../../analysis/types.js';
import type { Piece } from './layout.js';
import type { Style } from './style.js';
import { evidenceLine } from '../../present/evidence.js';

/** Icon plus text, as PVE shows health (check / exclamation / times / question). */
const ICON: Record<RiskLevel, string> = { critical: '✗', warning: '!', unknown: '?', info: 'i', ok: '✓' };

function levelStyle(level: RiskLevel, style: Style): ((t: string) => string) | undefined {
  if (level === 'critical') return style.error;
  if (level === 'warning') return style.marked;
  if (level === 'unknown' || level === 'info') return style.dim;
  return undefined;
}

function levelText(level: RiskLevel, style: Style): string {
  const text = `${ICON[level]} ${level}`;
  return levelStyle(level, style)?.(text) ?? text;
}

function reasonHead(r: RiskReason): string {
  return `${r.code}${r.disk ? ` ${r.disk}` : ''}`;
}

/**
 * True when the VM is `unknown` only because evidence beyond its config could not be read
 * (offline, or a privilege short): every config rule could check its part and found nothing worse
 * than a hint.
 */
function onlyEvidenceMissing(vm: VmReport): boolean {
  const risk = vm.risk;
  if (!risk || risk.level !== 'unknown') return false;
  const unknown = risk.reasons.filter((r) => r.severity === 'unknown');
  return unknown.length > 0 && unknown.every((r) => r.code === 'NOT_CHECKED' && r.scope === 'evidence');
}

/** `QMP timeouts in the node's syslog, vCPU overcommit on the node [offline audit (files only): needs the PVE API]`. */
function notCheckedList(reasons: RiskReason[]): string {
  const whys = new Map<string, string[]>();
  for (const r of reasons) {
    const why = r.evidence[0]?.value ?? 'not collected';
    const checks = whys.get(why);
    const check = r.check ?? r.evidence[0]?.label ?? r.message;
    if (checks) checks.push(check);
    else whys.set(why, [check]);
  }
  return [...whys].map(([why, checks]) => `${checks.join(', ')} [${why}]`).join('; ');
}

/** The table line of a VM: `head` (`risk ! warning`, styled) and the `body` to wrap after it. */
export interface RiskSummary {
  head: string;
  body: Piece[];
}

/**
 * The table line of a VM: level, then the top reason, or - when only evidence beyond the config
 * is missing - that the config is fine and what was not checked.
 */
export function riskSummary(vm: VmReport, style: Style): RiskSummary | null {
  const risk = vm.risk;
  if (!risk) return null;
  const head = `risk ${levelText(risk.level, style)}`;
  const top = risk.reasons[0];
  if (!top) return { head, body: [] };
  if (onlyEvidenceMissing(vm)) {
    // Level semantics stay (a part is unknown); the words say which part: not the config.
    const hints = risk.reasons.filter((r) => r.code !== 'NOT_CHECKED');
    const gaps = risk.reasons.filter((r) => r.code === 'NOT_CHECKED');
    const hinted = hints.length === 0 ? '' : ` (${hints.length} hint${hints.length === 1 ? '' : 's'}: ${hints.map(reasonHead).join(', ')})`;
    // A line PVE drops (malformed drive, bad value) is no dataplane risk, but the config is not OK.
    const errors = vm.issues.filter((i) => i.severity === 'error').length;
    const config = errors === 0 ? `config OK${hinted};` : `no dataplane risk found${hinted}, but ${errors} config error${errors === 1 ? '' : 's'} (on stderr);`;
    return { head, body: [{ text: config, style: style.bold }, { text: `not checked: ${notCheckedList(gaps)}` }] };
  }
  const more = risk.reasons.length - 1;
  return {
    head,
    body: [
      { text: `${reasonHead(top)}:`, style: style.bold },
      { text: top.message },
      ...(more > 0 ? [{ text: `(+${more} more)`, style: style.dim }] : []),
    ],
  };
}

/** `  risk ! warning  MAIN_LOOP_IO scsi0: scsi0 has no IO thread… (+2 more)` — the table line of a VM, unwrapped. */
export function riskSummaryLine(vm: VmReport, style: Style): string | null {
  const summary = riskSummary(vm, style);
  if (!summary) return null;
  const body = summary.body.map((p) => (p.style ? p.style(p.text) : p.text)).join(' ');
  return `  ${summary.head}${body ? `  ${body}` : ''}`;
}

/** `risk: 1 critical, 4 warning, 2 unknown, 0 info, 3 ok` over the levels of every VM (null: no risk assessed). */
export function riskTotals(vmLevels: Iterable<RiskLevel | null>): string | null {
  const levels: RiskLevel[] = ['critical', 'warning', 'unknown', 'info', 'ok'];
  const counts = new Map<RiskLevel, number>(levels.map((l) => [l, 0]));
  let any = false;
  for (const level of vmLevels) {
    if (level === null) continue;
    any = true;
    counts.set(level, counts.get(level)! + 1);
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
    for (const e of r.evidence) out.push(style.dim(`      ${evidenceLine(e)}`));
    out.push(`      fix: ${r.fix}`);
  }
  if (risk.unavailable && risk.unavailable.length > 0) {
    out.push('    not checked:');
    for (const u of risk.unavailable) out.push(`      ${u}`);
  }
  return out;
}
