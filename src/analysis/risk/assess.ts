// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `assessRisk`: runs every rule family over one VM and combines the reasons into a level.
 *
 * Level = the worst severity among the reasons, in the order critical > warning > unknown > info >
 * ok. A rule that needs a fact it could not get adds a NOT_CHECKED reason of severity `unknown`, so
 * a VM is never `ok` while a part of it could not be checked; a known warning or critical still
 * outranks the unknown part (the missing fact could only make it worse, not better).
 */
import { parseDriveKey } from '../../pve/index.js';
import type { RiskReason, VmReport, VmRisk } from '../types.js';
import { aioNativeIothreadReasons, aioNativeNoDirectReasons, startErrorReasons, unknownStorageReasons } from './aio.js';
import { backupReasons } from './backup.js';
import { RISK_CODES, SEVERITY_RANK, milder, worse } from './codes.js';
import type { RiskContext } from './context.js';
import { disksInForce, runState } from './context.js';
import { iothreadIgnoredReasons } from './iothread-ignored.js';
import { mainLoopIoReasons, mainLoopLoadReasons, manyDisksReasons } from './main-loop.js';
import { overcommitReasons } from './overcommit.js';
import { pendingReasons } from './pending.js';
import { ioPressureReasons, ioUringHangReasons, tmfDeadlockReasons } from './pve-qemu.js';
import { qmpTimeoutReasons } from './qmp-timeouts.js';
import { ramSnapshotReasons } from './snapshots.js';
import { throttleIothreadReasons } from './throttle.js';
import { windowsVbsReasons } from './windows-vbs.js';
import type { RiskEvidenceInput } from './types.js';

type Rule = (ctx: RiskContext) => RiskReason[];

/** Rules that look at the config (disk report) only. */
const CONFIG_RULES: Rule[] = [
  aioNativeNoDirectReasons,
  startErrorReasons,
  unknownStorageReasons,
  iothreadIgnoredReasons,
  mainLoopIoReasons,
  throttleIothreadReasons,
  manyDisksReasons,
  aioNativeIothreadReasons,
];

/** Rules about a VM that runs (or ran): they do not apply to templates, which never run a guest. */
const RUNTIME_RULES: Rule[] = [
  qmpTimeoutReasons,
  mainLoopLoadReasons,
  pendingReasons,
  overcommitReasons,
  backupReasons,
  ramSnapshotReasons,
  ioUringHangReasons,
  tmfDeadlockReasons,
  windowsVbsReasons,
  ioPressureReasons,
];

/**
 * Runs `rules` and appends their reasons to `out`, each NOT_CHECKED marked with the part it leaves
 * open (the config, or evidence beyond it). The rules make fresh reasons per call, so the mark is
 * set on them (last key, as a spread would add it) rather than on a copy of each.
 */
function collect(rules: readonly Rule[], ctx: RiskContext, scope: 'config' | 'evidence', out: RiskReason[]): void {
  for (let i = 0; i < rules.length; i++) {
    const found = rules[i]!(ctx);
    for (let j = 0; j < found.length; j++) {
      const r = found[j]!;
      if (r.code === 'NOT_CHECKED') r.scope = scope;
      out.push(r);
    }
  }
}

const CODE_ORDER = new Map<string, number>(RISK_CODES.map((c, i) => [c, i]));

// One collator: `localeCompare` with options builds a new one per call (most of the audit's sort time).
const NUMERIC = new Intl.Collator('en', { numeric: true });

/** `scsi2` before `scsi10`. */
function diskOrder(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  // Two drive keys (nearly always): the collator's order, by bus name then number, without it.
  const ka = a === undefined ? null : parseDriveKey(a);
  const kb = b === undefined ? null : parseDriveKey(b);
  if (ka && kb) return ka.kind === kb.kind ? ka.index - kb.index : ka.kind < kb.kind ? -1 : 1;
  return NUMERIC.compare(a ?? '', b ?? '');
}

/** Worst first; within a severity, by code (RISK_CODES order), then disk. */
function reasonOrder(a: RiskReason, b: RiskReason): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    (CODE_ORDER.get(a.code) ?? 99) - (CODE_ORDER.get(b.code) ?? 99) ||
    diskOrder(a.disk, b.disk)
  );
}

/** Worst first; within a severity, by code (RISK_CODES order), then disk. A sorted copy. */
export function sortReasons(reasons: RiskReason[]): RiskReason[] {
  return [...reasons].sort(reasonOrder);
}

/**
 * Soft-lockup / freeze risk of one VM.
 * @param vm the VM's effective disk report (src/audit/vm-report.ts)
 * @param evidence config facts (riskFactsFromConfig) and online facts (collectRiskEvidence);
 *   a missing fact makes the part that needs it `unknown`
 */
export function assessRisk(vm: VmReport, evidence: RiskEvidenceInput): VmRisk {
  // Every member set here (the memos too), so every context has one shape.
  const ctx: RiskContext = { vm, evidence, state: runState(vm), disks: disksInForce(vm), mainLoop: undefined, atNextStart: undefined };
  let reasons: RiskReason[] = [];
  collect(CONFIG_RULES, ctx, 'config', reasons);
  if (vm.template) {
    // A template never runs; its clones inherit the config, so the config reasons stay as hints.
    reasons = reasons.map((r) => ({ ...r, severity: milder(r.severity, 'info'), message: `${r.message} Clones of this template inherit it.` }));
  } else {
    collect(RUNTIME_RULES, ctx, 'evidence', reasons);
  }
  // The list is this call's own: sorted in place (stable, as the copy sortReasons makes).
  reasons.sort(reasonOrder);
  let level: VmRisk['level'] = 'ok';
  const unavailable: string[] = [];
  for (const r of reasons) {
    level = worse(level, r.severity);
    if (r.code === 'NOT_CHECKED') unavailable.push(`${r.evidence[0]!.label}: ${r.evidence[0]!.value}`);
  }
  const risk: VmRisk = { level, reasons };
  if (unavailable.length > 0) risk.unavailable = unavailable;
  return risk;
}
