// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Risk evidence for the audit command: online, what only the API can tell (node syslog, rrddata,
 * node CPU, backup jobs, snapshots); offline, the job files beside the configs. The reports are
 * built first (their disk facts decide which evidence is worth a request), then their `risk` is
 * recomputed with the evidence.
 */
import { evidenceNeeds, withRisk } from '../../analysis/risk/index.js';
import type { AnalysisEnv, AuditReport, VmInput } from '../../analysis/types.js';
import type { PveClient } from '../../api/client.js';

/** Collects the online evidence for the VMs of `report` and reassesses their risk in place. */
export async function addOnlineRiskEvidence(report: AuditReport, inputs: readonly VmInput[], env: AnalysisEnv, client: PveClient): Promise<void> {
  const { collectRiskEvidence } = await import('../../api/evidence.js');
  const byVmid = new Map(inputs.map((i) => [i.vmid, i]));
  const vms = report.vms.flatMap((vm) => {
    const input = byVmid.get(vm.vmid);
    return input ? [{ vmid: vm.vmid, node: vm.node, ...evidenceNeeds(vm, input) }] : [];
  });
  const online = await collectRiskEvidence(client, { vms, storages: env.storages });
  for (const vm of report.vms) {
    const input = byVmid.get(vm.vmid);
    if (input) withRisk(vm, input, env, { online });
  }
}
