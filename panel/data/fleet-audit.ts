// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's one load: the same online audit the CLI runs (`collectFleet` + `analyzeVm` + the
 * risk evidence), computed here in the browser from `src/`, plus what the planner needs (the raw
 * inputs and the token's permissions). No second implementation of anything.
 *
 * NOTE: at 5,000 VMs the configs take seconds and the evidence more; each VM is analysed and handed
 * to `onVm` as soon as its `/pending` answer is in (risk from the config alone), and the risk is
 * recomputed in place once the evidence is read, so the table fills while the wire is busy.
 */
import { analyzeVm, auditAssumptions } from '../../src/analysis/audit.js';
import { evidenceNeeds, withRisk } from '../../src/analysis/risk/index.js';
import type { AnalysisEnv, AuditReport, VmInput, VmReport } from '../../src/analysis/types.js';
import type { PveClient } from '../../src/api/client.js';
import { type PermissionMap, fetchPermissions } from '../../src/api/endpoints/access.js';
import { collectRiskEvidence } from '../../src/api/evidence.js';
import { collectFleet } from '../../src/api/fleet.js';

/** Everything the views show and the plan preview needs. */
export interface FleetAudit {
  report: AuditReport;
  inputs: VmInput[];
  env: AnalysisEnv;
  /** The token's `/access/permissions`; null when not readable (the planner then skips those checks). */
  permissions: PermissionMap | null;
  /** When the load finished. */
  loadedAt: Date;
}

/** What a load tells while it runs. */
export interface FleetLoadEvents {
  /** After each VM's request: `done` of `total` configs read. */
  onProgress?: (done: number, total: number) => void;
  /** A VM analysed from its config (risk without the online evidence yet). */
  onVm?: (report: VmReport, input: VmInput) => void;
  /** Every config is in; the risk evidence (syslog, IO load, backups) is being read. */
  onEvidence?: () => void;
}

/** A load as the views call it: abortable, with progress per VM. */
export type FleetLoader = (signal: AbortSignal, events: FleetLoadEvents) => Promise<FleetAudit>;

/**
 * Loads and audits the whole cluster.
 * @throws PveApiError when the VM list itself cannot be read
 */
export async function loadFleetAudit(client: PveClient, opts: FleetLoadEvents & { signal?: AbortSignal } = {}): Promise<FleetAudit> {
  const { signal } = opts;
  const permissions = fetchPermissions(client, {}, { signal }).catch(() => null);
  const reports = new Map<number, VmReport>();
  const fleet = await collectFleet(client, {
    ...(signal ? { signal } : {}),
    ...(opts.onProgress ? { onProgress: (p: { done: number; total: number }) => opts.onProgress!(p.done, p.total) } : {}),
    onInput: (input, env) => {
      const report = withRisk(analyzeVm(input, env), input, env);
      reports.set(input.vmid, report);
      opts.onVm?.(report, input);
    },
  });
  opts.onEvidence?.();
  const vms = fleet.inputs.map((i) => reports.get(i.vmid)!);
  const report: AuditReport = {
    vms,
    assumptions: auditAssumptions(fleet.inputs, fleet.env),
    errors: fleet.errors.filter((e) => e.severity === 'error'),
  };
  const warnings = fleet.errors.filter((e) => e.severity !== 'error');
  if (warnings.length > 0) report.warnings = warnings;
  // The risk evidence only the API can tell (IO load, QMP timeouts, backups), as `audit --pve` does.
  const byVmid = new Map(fleet.inputs.map((i) => [i.vmid, i]));
  const need = vms.map((vm) => ({ vmid: vm.vmid, node: vm.node, ...evidenceNeeds(vm, byVmid.get(vm.vmid)!) }));
  const online = await collectRiskEvidence(client, { vms: need, storages: fleet.env.storages }, signal ? { signal } : {});
  for (const vm of vms) withRisk(vm, byVmid.get(vm.vmid)!, fleet.env, { online });
  return { report, inputs: fleet.inputs, env: fleet.env, permissions: await permissions, loadedAt: new Date() };
}
