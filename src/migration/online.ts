// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The migration against a live cluster, for every front end (CLI, shim): read the fleet and plan
 * it, apply a saved plan, roll a journal back. Pure of Node: the caller hands in the PVE client
 * and the journal (prior entries + a writer), and turns `MigrationReadError` into its own error.
 */
import { type RiskEvidenceInput, evidenceNeeds, riskFactsFromConfig } from '../analysis/risk/index.js';
import type { VmInput, VmReport } from '../analysis/types.js';
import type { PveClient } from '../api/client.js';
import { fetchVersion } from '../api/endpoints/version.js';
import { PveApiError } from '../api/errors.js';
import { auditCluster } from '../audit/cluster.js';
import { type ClusterEnv, UnknownNodeError, collectEnv } from '../audit/fleet.js';
import { guestOsFact } from '../audit/guest-os.js';
import { createApiTarget } from './api-target.js';
import { applyPlan } from './apply.js';
import { type JournalEntry, type RebootPolicy, replayJournal } from './journal-model.js';
import { buildPlan } from './planner.js';
import { rollbackJournal } from './rollback.js';
import type { EngineEvent, EngineOptions, JournalWriter, RunSummary } from './runner.js';
import type { MigrationPlan, PermissionMap, PlanOptions, PlanVmInput } from './types.js';

/** PVE could not be read at all (VM list, storages); the message names the request, `cause` keeps the client's error. */
export class MigrationReadError extends Error {
  override name = 'MigrationReadError';
}

/** The VMs to plan: one node, some VMIDs, or (neither) the whole cluster. */
export interface PlanSelection {
  node?: string;
  vmids?: number[];
}

/**
 * Reads the selected VMs and plans them. Nothing is written.
 * @returns the plan and the read errors that did not stop it (one VM unreadable, no privileges list)
 * @throws MigrationReadError when the VM list cannot be read at all, or `--node` names no node
 */
export async function makePlan(
  client: PveClient,
  selection: PlanSelection,
  planOptions: PlanOptions,
  meta: { pve: string; onProgress?: (done: number, total: number) => void },
): Promise<{ plan: MigrationPlan; errors: string[] }> {
  // --min-risk needs the online evidence (IO load, QMP timeouts, backups) the audit uses too.
  const versionRead = fetchVersion(client).catch(() => null);
  let audit;
  try {
    audit = await auditCluster(client, {
      ...selection,
      evidence: Boolean(planOptions.minRisk),
      ...(meta.onProgress ? { onProgress: ({ phase, done, total }) => void (phase === 'configs' && meta.onProgress!(done, total)) } : {}),
    });
  } catch (err) {
    if (err instanceof PveApiError) throw new MigrationReadError(`${meta.pve}: ${err.request}: ${err.message.replace(/\n/g, '; ')}`, { cause: err });
    if (err instanceof UnknownNodeError) throw new MigrationReadError(err.message);
    throw err;
  }
  // The release names privileges that differ between PVE 8 and 9 (guest agent); any user may read it.
  const version = await versionRead;
  const permissions: PermissionMap | null = audit.permissions;
  const reports = new Map(audit.vms.map((vm) => [vm.vmid, vm]));
  // The FreeBSD gate needs the node's pve-qemu-kvm (in the env) and the guest agent's word on the OS.
  const agentSaid = await guestOsEvidence(client, audit.inputs, reports);
  const inputs: PlanVmInput[] = audit.inputs.map((input) => {
    const report = reports.get(input.vmid)!;
    const haState = input.runtime?.haState;
    const evidence = { ...riskFactsFromConfig(input, audit.env), ...agentSaid.get(input.vmid) };
    return { input, report, ha: haState ? { sid: `vm:${input.vmid}`, state: haState } : null, permissions, evidence };
  });
  // An API token is never root@pam, whatever user it belongs to (docs/how-qemu-server-decides.md#api).
  const plan = buildPlan(inputs, { ...planOptions, authUser: null, pveRelease: version?.release ?? null }, { pve: meta.pve });
  const errors = audit.errors.map((e) => `${e.source ?? ''}: ${e.message}`);
  if (!permissions) errors.push('/access/permissions not readable: privileges were not checked up front');
  return { plan, errors };
}

/** The guest agent's get-osinfo of the running VMs whose ostype does not name the OS (see evidenceNeeds). */
async function guestOsEvidence(client: PveClient, inputs: readonly VmInput[], reports: Map<number, VmReport>): Promise<Map<number, RiskEvidenceInput>> {
  const out = new Map<number, RiskEvidenceInput>();
  await Promise.all(
    inputs
      .filter((i) => i.node !== null && reports.has(i.vmid) && evidenceNeeds(reports.get(i.vmid)!, i).askGuestOs)
      .map(async (i) => void out.set(i.vmid, { guestOs: await guestOsFact(client, i.node!, i.vmid) })),
  );
  return out;
}

/** A journal to run against: what earlier runs wrote, and where this run appends. */
export interface RunJournal {
  prior: JournalEntry[];
  writer: JournalWriter;
}

/** Options shared by an online apply and rollback. */
export interface OnlineRunOptions {
  reboot: RebootPolicy;
  concurrency: number;
  /** Only these VMs. */
  vmids?: number[];
  /** `--pve` URL, for messages. */
  pve: string;
  /** VMs to reboot even into a config the audit says cannot start (`--force-reboot`). */
  forceReboot?: number[];
  /** Test knobs: poll interval and timeouts of the engine. */
  engine?: Partial<EngineOptions>;
  signal?: AbortSignal;
  onEvent?: (e: EngineEvent) => void;
}

export interface OnlineApplyOptions extends OnlineRunOptions {
  planFile: string;
  planHash: string;
  confirmStaged?: number[];
  shutdownTimeoutSec?: number;
  /** See `ApplyOptions.previewDigest`: a VM edited since the plan is skipped, never re-planned. */
  previewDigest?: boolean;
}

/**
 * Storages, installed QEMU and the token's permissions, read like the plan read them, without
 * reading the VMs: the engine reads each VM itself right before writing it.
 */
async function readEnv(client: PveClient, vmids: number[], pve: string): Promise<ClusterEnv> {
  try {
    return await collectEnv(client, { vmids });
  } catch (err) {
    if (err instanceof PveApiError) throw new MigrationReadError(`${pve}: ${err.request}: ${err.message.replace(/\n/g, '; ')}`, { cause: err });
    throw err;
  }
}

function targetOf(client: PveClient, read: ClusterEnv, o: OnlineRunOptions) {
  return createApiTarget(client, {
    env: read.env,
    storageAccess: read.storageAccess,
    permissions: read.permissions,
    ...(o.engine?.pollMs !== undefined ? { pollMs: Math.max(o.engine.pollMs, 10) } : {}),
  });
}

/**
 * Applies a saved plan through the API, journalled to `journal`.
 * @throws MigrationReadError when PVE cannot be read at all
 */
export async function applyPlanOnline(client: PveClient, plan: MigrationPlan, journal: RunJournal, o: OnlineApplyOptions): Promise<RunSummary> {
  const vmids = plan.vms.map((v) => v.vmid).filter((id) => !o.vmids || o.vmids.includes(id));
  const env = await readEnv(client, vmids, o.pve);
  return applyPlan(plan, targetOf(client, env, o), journal.writer, journal.prior, {
    reboot: o.reboot,
    concurrency: o.concurrency,
    planFile: o.planFile,
    planHash: o.planHash,
    pve: o.pve,
    authUser: null,
    ...(o.vmids ? { vmids: o.vmids } : {}),
    ...(o.forceReboot ? { forceReboot: o.forceReboot } : {}),
    ...(o.confirmStaged ? { confirmStaged: o.confirmStaged } : {}),
    ...(o.shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec: o.shutdownTimeoutSec } : {}),
    ...(o.previewDigest ? { previewDigest: true } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    ...o.engine,
  });
}

/** VMs a journal can roll back (apply wrote to them). */
export function rollbackCandidates(entries: JournalEntry[]): number[] {
  return [...replayJournal(entries).values()]
    .filter((j) => j.writes.some((w) => w.intent.purpose === 'apply'))
    .map((j) => j.vmid)
    .sort((a, b) => a - b);
}

/**
 * Rolls back through the API what the journal's apply runs wrote; appends to the same journal.
 * @throws MigrationReadError when PVE cannot be read at all
 */
export async function rollbackOnline(client: PveClient, journal: RunJournal, o: OnlineRunOptions): Promise<RunSummary> {
  const vmids = rollbackCandidates(journal.prior).filter((id) => !o.vmids || o.vmids.includes(id));
  const env = await readEnv(client, vmids, o.pve);
  return rollbackJournal(journal.prior, targetOf(client, env, o), journal.writer, {
    reboot: o.reboot,
    concurrency: o.concurrency,
    ...(o.vmids ? { vmids: o.vmids } : {}),
    ...(o.forceReboot ? { forceReboot: o.forceReboot } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    ...o.engine,
  });
}
