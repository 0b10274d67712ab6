// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's one load: the same online audit the CLI runs (the audit service's `auditCluster`,
 * risk evidence included), computed here in the browser from `src/`, plus what the planner needs
 * (the raw inputs and the token's permissions). No second implementation of anything.
 *
 * NOTE: at 5,000 VMs the configs take seconds; each VM is analysed and handed to `onVm` as soon as
 * its `/pending` answer is in, and its risk is recomputed in place (`onRisk`) once its evidence is
 * in, so the table fills while the wire is busy. The heavy evidence requests (the ~50 MB metrics
 * export at 5,000 VMs, the per-VM snapshot lists) wait until every config is in: the rows get the
 * request slots first and the evidence fills in after them.
 */
import type { AnalysisEnv, AuditReport, VmInput, VmReport } from '../../src/analysis/types.js';
import type { PveClient } from '../../src/api/client.js';
import type { PermissionMap } from '../../src/api/endpoints/access.js';
import type { PendingBatchAdvert } from '../../api-shim/contracts/pending-batch.js';
import { auditCluster } from '../../src/audit/index.js';
import { loadFleetAuditInWorker } from './fleet-audit-remote.js';
import { type PendingBatchOptions, pendingBatchSource } from './pending-batch.js';

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
  /**
   * A VM's risk reassessed with the evidence: `report` is the object `onVm` handed, updated in
   * place. Thousands arrive in slices of a few ms (the tab stays responsive); repaint per frame.
   */
  onRisk?: (report: VmReport) => void;
}

/** A load as the views call it: abortable, with progress per VM. */
export type FleetLoader = (signal: AbortSignal, events: FleetLoadEvents) => Promise<FleetAudit>;

/** What to load: the whole cluster, or `node`'s VMs, or `vmids`; abortable. */
export type FleetLoadOptions = FleetLoadEvents & { signal?: AbortSignal; node?: string; vmids?: readonly number[] };

/** How a client's loads may run in a Worker (`auditInWorker`). */
export interface FleetWorkerSpec {
  /** Starts the worker (fleet-audit-worker.ts as the host built and serves it). */
  start: () => Worker;
  /** The page's CSRFPreventionToken, read when a load starts. */
  csrfToken?: () => string | undefined;
}

const workerSpecs = new WeakMap<PveClient, FleetWorkerSpec>();

/**
 * Lets `client`'s fleet loads run in a Worker (fleet-audit-remote.ts): the client must be the
 * page's same-origin client (the worker sends the browser's cookies, no token of its own).
 * Returns `client`.
 */
export function auditInWorker(client: PveClient, spec: FleetWorkerSpec): PveClient {
  workerSpecs.set(client, spec);
  return client;
}

const batchAdverts = new WeakMap<PveClient, { advert: () => PendingBatchAdvert | null | undefined; options: PendingBatchOptions }>();

/**
 * Lets `client`'s fleet loads read the VMs' configs through the shim's batched read
 * (panel/data/pending-batch.ts) when `advert` says the shim has one (`/dp/config`'s `pendingBatch`,
 * asked when a load starts); else, and inside the PVE UI, one request per VM. Returns `client`.
 */
export function readPendingInBatches(client: PveClient, advert: () => PendingBatchAdvert | null | undefined, options: PendingBatchOptions = {}): PveClient {
  batchAdverts.set(client, { advert, options });
  return client;
}

/**
 * Loads and audits the whole cluster (or `node`'s VMs, or `vmids`): in a Worker when the client
 * was given one (`auditInWorker`) and the browser starts it, else on this thread.
 * @throws PveApiError when the VM list itself cannot be read
 */
export function loadFleetAudit(client: PveClient, opts: FleetLoadOptions = {}): Promise<FleetAudit> {
  const spec = workerSpecs.get(client);
  if (!spec) return auditFleetHere(client, opts);
  return loadFleetAuditInWorker(client, spec, opts, () => auditFleetHere(client, opts), batchAdverts.get(client)?.advert() ?? undefined);
}

/**
 * The load on this thread (the worker runs this too).
 * @throws PveApiError when the VM list itself cannot be read
 */
export async function auditFleetHere(client: PveClient, opts: FleetLoadOptions = {}): Promise<FleetAudit> {
  // Without evidence a VM comes once, final at once: then it is new, not a reassessment.
  const handed = new WeakSet<VmReport>();
  let configsIn = (): void => {};
  const afterConfigs = new Promise<void>((resolve) => (configsIn = resolve));
  const batching = batchAdverts.get(client);
  const batch = batching?.advert();
  const { inputs, env, permissions, ...report } = await auditCluster(client, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(batch ? { pendingSource: pendingBatchSource(client, batch, batching!.options) } : {}),
    // Behind the shim (it advertised its batched read) storage content is not forwarded: the RAM
    // snapshots come from the VMs' snapshot lists, without a refused listing per network storage.
    evidenceOptions: { after: afterConfigs, ...(batch ? { stateVolumeListings: false } : {}) },
    // Only one node's or one VM's (the PVE UI's Node and VM tabs).
    ...(opts.node ? { node: opts.node } : {}),
    ...(opts.vmids ? { vmids: opts.vmids } : {}),
    // A VM comes first from its config alone (`final: false`); its risk is then recomputed in place.
    onVm: ({ vm, input, final }) => {
      if (final && handed.has(vm)) return opts.onRisk?.(vm);
      handed.add(vm);
      opts.onVm?.(vm, input);
      // Its evidence was already in when its config arrived: no reassessment will follow.
      if (final) opts.onRisk?.(vm);
    },
    onProgress: ({ phase, done, total }) => {
      if (phase === 'configs') {
        opts.onProgress?.(done, total);
        if (done === total) configsIn();
      } else {
        // Also when no VM was read (no configs progress at all).
        configsIn();
        if (done === 0) opts.onEvidence?.();
      }
    },
  }).finally(configsIn);
  return { report, inputs, env, permissions, loadedAt: new Date() };
}
