// SPDX-License-Identifier: AGPL-3.0-or-later
/** Options and results of the audit service (`auditFiles`, `auditCluster`). */
import type { AnalysisEnv, AuditReport, Version, VmInput, VmReport } from '../analysis/types.js';
import type { CollectEvidenceOptions } from './evidence.js';
import type { PendingSource } from './fleet.js';
import type { PveQemuOption } from './pve-qemu-env.js';
import type { VmidRange } from './reader.js';
import type { YieldToHost } from './slices.js';

/** One VM as the service finishes it (see `AuditOptions.onVm`). */
export interface AuditVmEvent {
  vm: VmReport;
  input: VmInput;
  /**
   * False while the online risk evidence of this VM is still being read: its disk facts are final,
   * its `risk` is not yet (the parts the evidence decides read "not collected"). The VM is then
   * reported again with `final: true` (the same object, its risk updated). A VM whose evidence is
   * in when its config arrives comes only once, final.
   */
  final: boolean;
}

/** Progress of a long audit, for a progress bar. */
export interface AuditProgress {
  /**
   * `configs`: one read per VM (`done` of `total`); `evidence`: once every config is in, the risk of
   * the VMs still waiting for their evidence (`done: 0` when the phase starts, `total` at its end).
   */
  phase: 'configs' | 'evidence';
  done: number;
  total: number;
}

/** Options both audits share. */
export interface AuditOptions {
  /** Installed QEMU of every node (`--qemu-version`); default: read from the nodes online, assumed 11.0 offline. */
  qemuVersion?: Version;
  /** Installed pve-qemu-kvm (`--pve-qemu-version`); online it overrides what apt/versions said. */
  pveQemu?: PveQemuOption;
  /** Only VMs of this node. */
  node?: string;
  /** Only these VMs. */
  vmids?: readonly number[];
  /**
   * Offline: only the VMIDs of this range, for one of two threads that share a tree; the other
   * thread's VMs are not read. Filter errors (`node`, `vmids`) are not checked then.
   */
  vmidRange?: VmidRange;
  /**
   * Each VM as soon as it is analysed, before the whole audit ends (rows can be shown as their
   * configs arrive). Online, a VM whose evidence is still out comes first with `final: false`, and
   * again once its evidence is in; every VM comes once with `final: true`.
   */
  onVm?: (event: AuditVmEvent) => void;
  onProgress?: (progress: AuditProgress) => void;
}

/** Options of `auditCluster`. */
export interface ClusterAuditOptions extends AuditOptions {
  /** Requests in flight; default (and cap): the client's concurrency. */
  concurrency?: number;
  /** Where the VMs' `/pending` answers come from, when not one client GET per VM (collectFleet's `pendingSource`). */
  pendingSource?: PendingSource;
  /** Read the online risk evidence (node syslog, IO rates, node CPU, backup jobs, snapshots). Default true. */
  evidence?: boolean;
  /** With `evidence: false`: why, as the NOT_CHECKED reasons say it (`skipped: --no-evidence`). */
  evidenceSkipped?: string;
  /** Windows and limits of the evidence collection. */
  evidenceOptions?: Omit<CollectEvidenceOptions, 'signal'>;
  /**
   * How the analysis (one VM at a time, see BACKLOG_SLICE_MS) and the parse of the metrics
   * export give the host a turn; default `yieldToIo` (`setImmediate` in Node, a MessageChannel
   * task in a browser: the network's answers go first).
   */
  yieldToHost?: YieldToHost;
  signal?: AbortSignal;
}

/**
 * A finished audit: the report, plus what it was computed from (the planner plans from `inputs`
 * and `env`). `toAuditJson` writes only the report's documented fields.
 */
export interface AuditRun extends AuditReport {
  inputs: VmInput[];
  env: AnalysisEnv;
}
