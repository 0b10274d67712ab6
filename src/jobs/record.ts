// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A job's record and the rules of starting one, the same for the shim's jobs and the PVE web
 * UI's in-browser jobs: which VMs a job works on and locks, what a rollback may restore, one job
 * per VM at a time.
 */
import { replayJournal, type JournalEntry } from '../migration/journal-model.js';
import type { JobListItem, PlanAnswer, RunRequest } from './types.js';

/** A job as kept (the shim's file, the browser's IndexedDB row): the request, who made it, its status. */
export interface JobRecord
  extends Pick<
    JobListItem,
    'id' | 'kind' | 'createdAt' | 'finishedAt' | 'who' | 'planId' | 'source' | 'reboot' | 'concurrency' | 'perNodeRebootConcurrency' | 'continueOnFailure' | 'status' | 'stopReason'
  > {
  /** The VMs the job works on, ascending. */
  vmids: number[];
  /** Those it may write to or reboot (its lock set: one job per VM at a time). */
  locked: number[];
  cancelRequested: { at: string; who: string } | null;
}

/** A refusal a front end shows (the shim as a coded HTTP error). */
export class JobError extends Error {
  override name = 'JobError';
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'bad-request',
    message: string,
  ) {
    super(message);
  }
}

/** A new record, `running`, for `req` by `who`. */
export function newRecord(
  id: string,
  kind: 'apply' | 'rollback',
  req: RunRequest,
  who: string,
  vms: { vmids: number[]; locked: number[] },
  ref: { planId: string | null; source: string | null },
  defaultConcurrency: number,
): JobRecord {
  return {
    id,
    kind,
    createdAt: new Date().toISOString(),
    finishedAt: null,
    who,
    ...ref,
    reboot: req.reboot,
    concurrency: req.concurrency ?? defaultConcurrency,
    perNodeRebootConcurrency: req.perNodeRebootConcurrency ?? 1,
    continueOnFailure: req.continueOnFailure === true,
    ...vms,
    status: 'running',
    cancelRequested: null,
    stopReason: null,
  };
}

/**
 * The VMs an apply of `plan` works on (all of it, or `vmids`) and those it locks.
 * @throws JobError when a VM asked for is not in the plan
 */
export function applyTargets(plan: PlanAnswer, planId: string, vmids?: readonly number[]): { vmids: number[]; locked: number[] } {
  const inPlan = new Set(plan.plan.vms.map((v) => v.vmid));
  const notInPlan = (vmids ?? []).filter((id) => !inPlan.has(id));
  if (notInPlan.length > 0) throw new JobError('bad-request', `vmids: VM ${notInPlan.join(', ')} not in plan ${planId}`);
  const chosen = vmids ? new Set(vmids) : inPlan;
  // Blocked or nothing-to-do VMs are reported skipped by the engine and touch nothing, so they lock nothing.
  return {
    vmids: plan.plan.vms.filter((v) => chosen.has(v.vmid)).map((v) => v.vmid),
    locked: plan.plan.vms.filter((v) => chosen.has(v.vmid) && v.eligible).map((v) => v.vmid),
  };
}

/**
 * The VMs a rollback of job `source` restores: those its journal wrote to or power-cycled (all,
 * or `vmids`).
 * @throws JobError when the source is not a finished apply, or wrote nothing to a VM asked for
 */
export function rollbackTargets(source: JobRecord, entries: readonly JournalEntry[], vmids?: readonly number[]): number[] {
  if (source.kind !== 'apply') throw new JobError('bad-request', `job ${source.id} is a rollback; roll back the apply job it restored`);
  if (source.status === 'running') throw new JobError('conflict', `job ${source.id} is still running; cancel it or wait for it to end, then roll back`);
  const touched = [...replayJournal([...entries]).values()].filter((j) => j.writes.length > 0 || j.power.length > 0).map((j) => j.vmid);
  const notTouched = (vmids ?? []).filter((id) => !touched.includes(id));
  if (notTouched.length > 0) throw new JobError('bad-request', `vmids: job ${source.id} wrote nothing to VM ${notTouched.join(', ')}`);
  const chosen = touched.filter((id) => !vmids || vmids.includes(id)).sort((a, b) => a - b);
  if (chosen.length === 0) throw new JobError('bad-request', `job ${source.id} wrote nothing: there is nothing to roll back`);
  return chosen;
}

/**
 * One job per VM at a time.
 * @param locks VMID → id of the running job holding it
 * @throws JobError naming the first busy VM and its job (and up to ten more)
 */
export function refuseBusy(record: JobRecord, locks: ReadonlyMap<number, string>): void {
  const busy = record.locked.filter((id) => locks.has(id));
  if (busy.length === 0) return;
  const first = busy[0]!;
  throw new JobError(
    'conflict',
    `VM ${first} is in running job ${locks.get(first)}` +
      (busy.length > 1 ? ` (and ${busy.length - 1} more: ${busy.slice(1, 11).map((id) => `VM ${id} in ${locks.get(id)}`).join(', ')})` : '') +
      '; one job per VM at a time: wait for it, cancel it, or leave the VM out',
  );
}

/** Node of each VM of a journal (a rollback's VMs). */
export function nodesOf(entries: readonly JournalEntry[]): Map<number, string | null> {
  return new Map([...replayJournal([...entries]).values()].map((j) => [j.vmid, j.node]));
}

/** Node of each VM of a plan. */
export function planNodes(plan: PlanAnswer): Map<number, string | null> {
  return new Map(plan.plan.vms.map((v) => [v.vmid, v.node]));
}
