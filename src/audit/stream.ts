// SPDX-License-Identifier: AGPL-3.0-or-later
/** VM by VM: analysis, risk and the `onVm` callback, in the report's order. */
import { type RiskSources, withRisk } from '../analysis/risk/index.js';
import type { AnalysisEnv, VmInput, VmReport } from '../analysis/types.js';
import type { AuditVmEvent } from './options.js';
import { analyzeVm } from './vm-report.js';

/** The report order: by VMID, then node (a VMID seen on two nodes of a copied tree). Inputs sort alike. */
export function compareVms(a: Pick<VmReport, 'vmid' | 'node'>, b: Pick<VmReport, 'vmid' | 'node'>): number {
  return a.vmid - b.vmid || (a.node ?? '').localeCompare(b.node ?? '');
}

/** One VM's report with its risk from `sources`. */
export function auditVm(input: VmInput, env: AnalysisEnv, sources: RiskSources): VmReport {
  return withRisk(analyzeVm(input, env), input, env, sources);
}

/** Every VM's final report, sorted; `onVm` sees each as it is done. */
export function auditVms(inputs: readonly VmInput[], env: AnalysisEnv, sources: RiskSources, onVm?: (e: AuditVmEvent) => void): VmReport[] {
  const vms = inputs.map((input) => {
    const vm = auditVm(input, env, sources);
    onVm?.({ vm, input, final: true });
    return vm;
  });
  return vms.sort(compareVms);
}
