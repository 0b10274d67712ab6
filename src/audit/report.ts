// SPDX-License-Identifier: AGPL-3.0-or-later
/** The report of a whole audit: every VM (facts and risk), the assumptions it rests on, what could not be read. */
import { type RiskSources, withRisk } from '../analysis/risk/index.js';
import type { AnalysisEnv, AuditReport, Version, VmInput } from '../analysis/types.js';
import type { ConfigIssue } from '../pve/types.js';
import { analyzeVm } from './vm-report.js';

/** QEMU of the current PVE release (pve-qemu-kvm 11.0 with qemu-server 9.2), used when none is given. */
export const DEFAULT_INSTALLED_QEMU: Version = [11, 0, 0];

/** The assumptions every report of this environment rests on, in words. */
export function auditAssumptions(inputs: ReadonlyArray<Pick<VmInput, 'node' | 'runtime'>>, env: AnalysisEnv): string[] {
  const out: string[] = [];
  if (env.installedQemuAssumed && inputs.some((i) => i.node === null || !env.installedQemuByNode?.[i.node])) {
    const v = `${env.installedQemu[0]}.${env.installedQemu[1]}`;
    out.push(
      `installed QEMU assumed to be ${v} (the QEMU of qemu-server 9.2): VMs without a pinned machine version are analysed for machine ${v}; give the node's version with --qemu-version X.Y`,
    );
  }
  if (inputs.some((i) => !i.runtime)) {
    out.push(
      'no runtime state (offline): each VM is shown as its next start would run it; a running VM may still run an older machine version until it is restarted',
    );
  }
  return out;
}

/**
 * Audits every VM; `errors` are inputs that could not be read at all (passed through).
 * @param risk evidence beyond the config for the risk assessment (online evidence, offline
 *   jobs.cfg); every VM gets `risk`, with unreadable parts marked unknown (docs/risk-model.md)
 */
export function buildAuditReport(inputs: VmInput[], env: AnalysisEnv, errors: ConfigIssue[] = [], risk: RiskSources = {}): AuditReport {
  const vms = inputs
    .map((input) => withRisk(analyzeVm(input, env), input, env, risk))
    .sort((a, b) => a.vmid - b.vmid || (a.node ?? '').localeCompare(b.node ?? ''));
  return { vms, assumptions: auditAssumptions(inputs, env), errors };
}
