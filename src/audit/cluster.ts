// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The online audit: a cluster (or one node) over the PVE API → `AuditReport`, risk evidence
 * included. Each VM is analysed as soon as its `/pending` answer is in, while the other requests
 * are still on the wire, so the analysis costs no wall time; then the evidence its rules need is
 * read for the whole fleet at once and the risk recomputed with it.
 */
import { type RiskSources, evidenceNeeds, withRisk } from '../analysis/risk/index.js';
import type { AnalysisEnv, VmInput, VmReport } from '../analysis/types.js';
import type { PveClient } from '../api/client.js';
import type { PermissionMap } from '../api/endpoints/access.js';
import { type EvidenceStart, type EvidenceVm, collectRiskEvidence, startRiskEvidence } from './evidence.js';
import type { ClusterResource } from '../api/endpoints/cluster.js';
import { collectFleet } from './fleet.js';
import type { AuditRun, ClusterAuditOptions } from './options.js';
import { withPveQemu } from './pve-qemu-env.js';
import { auditAssumptions } from './report.js';
import { forEachSliced } from './slices.js';
import { auditVm, compareVms } from './stream.js';

/** A cluster audit, with the token's `/access/permissions` (null when not readable) for the planner. */
export interface ClusterAuditRun extends AuditRun {
  permissions: PermissionMap | null;
}

/**
 * Audits the VMs of a cluster.
 * @throws PveApiError when the VM list itself cannot be read (nothing to audit),
 *   UnknownNodeError when `node` names no node of the cluster
 */
export async function auditCluster(client: PveClient, opts: ClusterAuditOptions = {}): Promise<ClusterAuditRun> {
  const { signal } = opts;
  const given = opts.qemuVersion;
  // A given QEMU version overrides what was read from every node, a given pve-qemu-kvm the packages.
  const envOf = (env: AnalysisEnv): AnalysisEnv => {
    if (!given) return withPveQemu(env, opts.pveQemu, false);
    const { installedQemuByNode: _read, ...rest } = env;
    return withPveQemu({ ...rest, installedQemu: given, installedQemuAssumed: false }, opts.pveQemu, true);
  };
  const evidence = opts.evidence !== false;
  // Without evidence the risk says why (when the caller says so).
  const provisional: RiskSources = !evidence && opts.evidenceSkipped ? { skipped: opts.evidenceSkipped } : {};
  const vms: VmReport[] = [];
  // The evidence that does not depend on the VMs' configs (backup jobs, metrics export, each node's
  // clock, syslog and status) is requested as soon as the VM list is known, ahead of the per-VM
  // reads, so it costs no extra round trips at the end.
  let started: { start: EvidenceStart; resources: readonly ClusterResource[] } | undefined;
  const evidenceOptions = { ...opts.evidenceOptions, ...(signal ? { signal } : {}) };
  const fleet = await collectFleet(client, {
    ...(evidence
      ? { onVmList: (resources: readonly ClusterResource[], nodes: readonly string[]) => (started = { resources, start: startRiskEvidence(client, { resources, nodes }, evidenceOptions) }) }
      : {}),
    ...(opts.node !== undefined ? { node: opts.node } : {}),
    ...(opts.vmids !== undefined ? { vmids: opts.vmids } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(signal ? { signal } : {}),
    onProgress: ({ done, total }) => opts.onProgress?.({ phase: 'configs', done, total }),
    onInput: (input, env) => {
      const vm = auditVm(input, envOf(env), provisional);
      vms.push(vm);
      opts.onVm?.({ vm, input, final: !evidence });
    },
  });
  const env = envOf(fleet.env);
  vms.sort(compareVms);
  const errors = fleet.errors.filter((e) => e.severity === 'error');
  // Warnings (partial facts, a missing privilege) do not stop the audit.
  const warnings = fleet.errors.filter((e) => e.severity !== 'error');
  if (evidence) await addRiskEvidence(client, vms, fleet.inputs, env, opts, started);
  return {
    vms,
    assumptions: auditAssumptions(fleet.inputs, env),
    errors,
    ...(warnings.length > 0 ? { warnings } : {}),
    inputs: fleet.inputs,
    env,
    permissions: fleet.permissions,
  };
}

/** Reads the evidence the VMs' rules can use (see `evidenceNeeds`) and reassesses their risk in place. */
async function addRiskEvidence(
  client: PveClient,
  vms: VmReport[],
  inputs: readonly VmInput[],
  env: AnalysisEnv,
  opts: ClusterAuditOptions,
  started: { start: EvidenceStart; resources: readonly ClusterResource[] } | undefined,
): Promise<void> {
  const byVmid = new Map(inputs.map((i) => [i.vmid, i]));
  // Thousands of VMs: the loops below run in slices so the host (a browser tab) stays responsive.
  const slices = { ...(opts.yieldToHost ? { yieldTo: opts.yieldToHost } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
  const wanted: EvidenceVm[] = [];
  await forEachSliced(
    vms,
    (vm) => {
      const input = byVmid.get(vm.vmid);
      if (input) wanted.push({ vmid: vm.vmid, node: vm.node, ...evidenceNeeds(vm, input) });
    },
    slices,
  );
  opts.onProgress?.({ phase: 'evidence', done: 0, total: wanted.length });
  const online = await collectRiskEvidence(
    client,
    { vms: wanted, storages: env.storages, ...(started ? { resources: started.resources } : {}) },
    { ...opts.evidenceOptions, ...(opts.signal ? { signal: opts.signal } : {}) },
    started?.start,
  );
  let done = 0;
  await forEachSliced(
    vms,
    (vm) => {
      const input = byVmid.get(vm.vmid);
      if (!input) return;
      withRisk(vm, input, env, { online });
      opts.onVm?.({ vm, input, final: true });
      done++;
    },
    slices,
  );
  opts.onProgress?.({ phase: 'evidence', done, total: wanted.length });
}
