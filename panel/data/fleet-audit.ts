// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's one load: the same online audit the CLI runs (`collectFleet` + `buildAuditReport`
 * + the risk evidence), computed here in the browser from `src/`, plus what the planner needs
 * (the raw inputs and the token's permissions). No second implementation of anything.
 */
import { buildAuditReport } from '../../src/analysis/audit.js';
import { evidenceNeeds, withRisk } from '../../src/analysis/risk/index.js';
import type { AnalysisEnv, AuditReport, VmInput } from '../../src/analysis/types.js';
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

/** A load as the views call it: abortable, with progress per VM. */
export type FleetLoader = (signal: AbortSignal, onProgress: (done: number, total: number) => void) => Promise<FleetAudit>;

/**
 * Loads and audits the whole cluster.
 * @throws PveApiError when the VM list itself cannot be read
 */
export async function loadFleetAudit(
  client: PveClient,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<FleetAudit> {
  const { signal } = opts;
  const permissions = fetchPermissions(client, {}, { signal }).catch(() => null);
  const fleet = await collectFleet(client, {
    ...(signal ? { signal } : {}),
    ...(opts.onProgress ? { onProgress: (p: { done: number; total: number }) => opts.onProgress!(p.done, p.total) } : {}),
  });
  const errors = fleet.errors.filter((e) => e.severity === 'error');
  const report = buildAuditReport(fleet.inputs, fleet.env, errors);
  const warnings = fleet.errors.filter((e) => e.severity !== 'error');
  if (warnings.length > 0) report.warnings = [...(report.warnings ?? []), ...warnings];
  // The risk evidence only the API can tell (IO load, QMP timeouts, backups), as `audit --pve` does.
  const byVmid = new Map(fleet.inputs.map((i) => [i.vmid, i]));
  const vms = report.vms.flatMap((vm) => {
    const input = byVmid.get(vm.vmid);
    return input ? [{ vmid: vm.vmid, node: vm.node, ...evidenceNeeds(vm, input) }] : [];
  });
  const online = await collectRiskEvidence(client, { vms, storages: fleet.env.storages }, signal ? { signal } : {});
  for (const vm of report.vms) {
    const input = byVmid.get(vm.vmid);
    if (input) withRisk(vm, input, fleet.env, { online });
  }
  return { report, inputs: fleet.inputs, env: fleet.env, permissions: await permissions, loadedAt: new Date() };
}
