// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's Apply: the VMs of the previewed plan (with the node they were shown on) become a
 * saved plan in the shim, then a job applying exactly that plan with the reboot choice, followed
 * until it ends. A VM whose config digest in the shim's read differs from the one previewed here
 * has changed since the preview: it is left out of the job and named, never re-planned.
 */
import type { RebootPolicy } from '../../src/migration/journal-model.js';
import type { MigrationPlan } from '../../src/migration/types.js';
import { JobsClient, type JobView } from './jobs.js';

/** What the panel shows after an apply. */
export interface ShimApplyAnswer {
  /** The job as it ended: per-VM states and reasons, counts, the journal file. */
  job: JobView;
  /** VMs left out (changed since the preview, moved, unreadable), and why. */
  errors: string[];
}

/** What Apply hands to the shim. */
export interface ApplyRequest {
  /** The plan the user saw (its digests are what the shim's read must match). */
  previewed: MigrationPlan;
  vmids: readonly number[];
  reboot: RebootPolicy;
  perNodeRebootConcurrency: number;
}

/** Applies as `applyThroughShim` does; replaceable in tests. */
export type Applier = (req: ApplyRequest, signal?: AbortSignal) => Promise<ShimApplyAnswer>;

/**
 * Plans the VMs in the shim and runs the plan as a job, until it ends.
 * @throws JobsApiError with the shim's message when it refuses (read-only, a VM in another job)
 */
export async function applyThroughShim(req: ApplyRequest, csrfToken: string, signal?: AbortSignal): Promise<ShimApplyAnswer> {
  const jobs = new JobsClient({ csrfToken });
  const previewed = new Map(req.previewed.vms.map((v) => [v.vmid, v]));
  const vms = req.vmids.map((vmid) => ({ vmid, node: previewed.get(vmid)?.node ?? '' }));
  const plan = await jobs.createPlan({ vms, aio: req.previewed.aio, ...(req.previewed.options.convertSata ? { convertSata: true } : {}) }, signal);
  if (!plan.id) throw new Error('the shim is read-only: the plan was previewed, not saved');
  const errors = [...plan.errors];
  const same: number[] = [];
  for (const v of plan.plan.vms) {
    if (previewed.get(v.vmid)?.digest === v.digest) same.push(v.vmid);
    else errors.push(`VM ${v.vmid}: changed since the preview (its config digest is not the one previewed); left out, preview it again`);
  }
  if (same.length === 0) throw new Error(errors.join('; ') || 'nothing to apply');
  const started = await jobs.startJob(
    { planId: plan.id, reboot: req.reboot, perNodeRebootConcurrency: req.perNodeRebootConcurrency, vmids: same },
    signal,
  );
  await jobs.waitForEnd(started.id, undefined, signal);
  return { job: await jobs.getJob(started.id, signal), errors };
}

/** A VM's job state in words. */
export function describeVmState(vm: JobView['vms'][number]): string {
  const state = vm.state === 'written' ? 'written, needs a cold start' : vm.state;
  return vm.reason && vm.state !== 'written' ? `${state} — ${vm.reason}` : state;
}
