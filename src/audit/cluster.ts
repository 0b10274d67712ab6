// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The online audit: a cluster (or one node) over the PVE API → `AuditReport`, risk evidence
 * included. Each VM is analysed once its `/pending` answer is in, while the other requests are
 * still on the wire, and its risk is assessed once its evidence is in: the shared evidence
 * (backup jobs, metrics export, each node's clock, syslog and status) is requested as soon as the
 * VM list is known, a VM's own evidence requests (snapshot list, rrddata fallback) as soon as its
 * config is analysed. So nothing waits for the last config. The analysis and the risk run as jobs
 * of a `Backlog`, in turns of the event loop with no answer to handle: an answer that comes in is
 * read, and the next request sent, before the analysis of the VMs already in (on one thread, each
 * millisecond an answer waits is a millisecond with one request fewer on the wire).
 */
import { type RiskEvidenceInput, type RiskSources, evidenceNeeds, withRisk } from '../analysis/risk/index.js';
import type { AnalysisEnv, VmInput, VmReport } from '../analysis/types.js';
import type { PveClient } from '../api/client.js';
import type { PermissionMap } from '../api/endpoints/access.js';
import { type EvidenceCollector, type EvidenceStart, riskEvidenceCollector, startRiskEvidence } from './evidence.js';
import type { ClusterResource } from '../api/endpoints/cluster.js';
import { collectFleet } from './fleet.js';
import type { AuditRun, AuditVmEvent, ClusterAuditOptions } from './options.js';
import { withPveQemu } from './pve-qemu-env.js';
import { auditAssumptions } from './report.js';
import { Backlog } from './slices.js';
import { auditVm, compareVms } from './stream.js';
import { analyzeVm } from './vm-report.js';

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
  // Computed once per env object (collectFleet hands the same one for every VM).
  let lastEnv: { read: AnalysisEnv; used: AnalysisEnv } | undefined;
  const envOf = (env: AnalysisEnv): AnalysisEnv => {
    if (lastEnv?.read === env) return lastEnv.used;
    let used: AnalysisEnv;
    if (!given) used = withPveQemu(env, opts.pveQemu, false);
    else {
      const { installedQemuByNode: _read, ...rest } = env;
      used = withPveQemu({ ...rest, installedQemu: given, installedQemuAssumed: false }, opts.pveQemu, true);
    }
    lastEnv = { read: env, used };
    return used;
  };
  const evidence = opts.evidence !== false;
  // Without evidence the risk says why (when the caller says so).
  const provisional: RiskSources = !evidence && opts.evidenceSkipped ? { skipped: opts.evidenceSkipped } : {};
  const vms: VmReport[] = [];
  const evidenceOptions = { ...(opts.yieldToHost ? { yieldTo: opts.yieldToHost } : {}), ...opts.evidenceOptions, ...(signal ? { signal } : {}) };
  let start: { start: EvidenceStart; resources: readonly ClusterResource[]; permissions: Promise<PermissionMap | Error> } | undefined;
  let collector: EvidenceCollector | undefined;
  // The analysis waits for turns without answers to handle: the next requests leave first.
  const backlog = new Backlog({ ...(opts.yieldToHost ? { yieldTo: opts.yieldToHost } : {}), ...(signal ? { signal } : {}) });
  const risks = evidence ? new RiskQueue(opts, backlog) : undefined;
  const fleet = await collectFleet(client, {
    ...(evidence
      ? {
          onVmList: (resources: readonly ClusterResource[], nodes: readonly string[], permissions: Promise<PermissionMap | Error>) =>
            (start = { resources, permissions, start: startRiskEvidence(client, { resources, nodes }, evidenceOptions) }),
        }
      : {}),
    ...(opts.node !== undefined ? { node: opts.node } : {}),
    ...(opts.vmids !== undefined ? { vmids: opts.vmids } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.pendingSource ? { pendingSource: opts.pendingSource } : {}),
    ...(signal ? { signal } : {}),
    onProgress: ({ done, total }) => opts.onProgress?.({ phase: 'configs', done, total }),
    schedule: (job) => backlog.push(job),
    onInput: (input, readEnv) => {
      const env = envOf(readEnv);
      if (!risks) {
        const vm = auditVm(input, env, provisional);
        vms.push(vm);
        opts.onVm?.({ vm, input, final: true });
        return;
      }
      // The disk facts now, the risk once this VM's evidence is in (see RiskQueue).
      const vm = analyzeVm(input, env);
      vms.push(vm);
      collector ??= riskEvidenceCollector(
        client,
        { storages: env.storages, ...(start ? { resources: start.resources, permissions: start.permissions } : {}) },
        evidenceOptions,
        start?.start,
      );
      risks.add(vm, input, env, collector.forVm({ vmid: vm.vmid, node: vm.node, ...evidenceNeeds(vm, input) }));
    },
  });
  const env = envOf(fleet.env);
  const errors = fleet.errors.filter((e) => e.severity === 'error');
  // Warnings (partial facts, a missing privilege) do not stop the audit.
  const warnings = fleet.errors.filter((e) => e.severity !== 'error');
  if (risks) {
    opts.onProgress?.({ phase: 'evidence', done: 0, total: vms.length });
    await risks.settled();
    opts.onProgress?.({ phase: 'evidence', done: vms.length, total: vms.length });
  }
  vms.sort(compareVms);
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

interface Pending {
  vm: VmReport;
  input: VmInput;
  env: AnalysisEnv;
  evidence?: RiskEvidenceInput;
}

/**
 * The risk of each VM, assessed once with its evidence (a job of the audit's backlog). When the
 * caller watches VMs (`onVm`), a VM whose evidence is not in by the next turn of the event loop is
 * handed to it first with its config-only risk (`final: false`).
 */
class RiskQueue {
  /** Added since the last turn of the event loop. */
  private fresh: Pending[] = [];
  private readonly all: Promise<void>[] = [];

  constructor(
    private readonly opts: ClusterAuditOptions,
    private readonly backlog: Backlog,
  ) {}

  add(vm: VmReport, input: VmInput, env: AnalysisEnv, evidence: Promise<RiskEvidenceInput>): void {
    const p: Pending = { vm, input, env };
    if (this.opts.onVm && this.fresh.push(p) === 1) setTimeout(() => this.showWaiting(), 0);
    const done = evidence.then((ev) => {
      p.evidence = ev;
      return this.backlog.push(() => {
        withRisk(p.vm, p.input, p.env, { online: new Map([[p.vm.vmid, ev]]) });
        this.opts.onVm?.({ vm: p.vm, input: p.input, final: true } satisfies AuditVmEvent);
      });
    });
    // Awaited in settled(); an abort before that must not surface as unhandled.
    done.catch(() => {});
    this.all.push(done);
  }

  /** Resolves once every VM added so far has its final risk. @throws the abort of the audit */
  async settled(): Promise<void> {
    await Promise.all(this.all);
  }

  /** The VMs of the last turn whose evidence is still out: shown with their config-only risk. */
  private showWaiting(): void {
    const fresh = this.fresh;
    this.fresh = [];
    for (const p of fresh) {
      if (p.evidence) continue;
      withRisk(p.vm, p.input, p.env, {});
      this.opts.onVm?.({ vm: p.vm, input: p.input, final: false });
    }
  }
}
