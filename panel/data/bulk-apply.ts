// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bulk apply and rollback on the shim's jobs API, so that the plan applied is the plan previewed:
 * the shim reads the VMs again and saves its plan (`POST /dp/plans`); a VM whose saved plan is not
 * the previewed one (its config digest changed, or its changes differ) is reported "changed since
 * the preview" and left out of the job, never silently re-planned. No cap on the number of VMs:
 * the job runs on the server and the panel follows it.
 */
import type { RebootPolicy } from '../../src/migration/journal-model.js';
import type { MigrationPlan, VmPlan } from '../../src/migration/types.js';
import type { JobListItem, JobView, JobsClient, VmJobState, VmJobView } from './jobs.js';

/**
 * What the panel uses of a jobs API: the shim's client, or the browser's own jobs inside the PVE
 * web UI (panel/data/browser-jobs.ts); tests pass a fake. `resume` offers Resume of an
 * interrupted job; `journalText` offers the journal as a download (a browser job's journal is
 * in the browser, a shim job's is a file the shim names).
 */
export type JobsApi = Pick<JobsClient, 'createPlan' | 'startJob' | 'subscribe' | 'cancel' | 'listJobs' | 'getJob' | 'rollback'> & {
  resume?(id: string): Promise<JobView>;
  journalText?(id: string): Promise<string>;
};

/** How a job runs: the reboot choice and reboots at once per node. */
export interface RunChoice {
  reboot: RebootPolicy;
  /** Reboots at once per node (default 1). */
  perNode: number;
}

/** A VM left out of the job before it started, and why. */
export interface LeftOut {
  vmid: number;
  node: string | null;
  reason: string;
}

export interface StartedJob {
  job: JobView;
  leftOut: LeftOut[];
}

/** The parts of a VM's plan that a job acts on: digest and the key changes. */
function planKey(vm: VmPlan): string {
  return JSON.stringify([vm.digest, vm.changes.map((c) => [c.key, c.before, c.after])]);
}

/**
 * Splits `vmids` into the VMs whose saved plan equals the previewed one and those that changed.
 * @param missing why a VM has no saved plan (the shim's `errors`)
 */
export function matchPreview(previewed: MigrationPlan, saved: MigrationPlan, vmids: readonly number[], missing: readonly string[] = []): { same: number[]; leftOut: LeftOut[] } {
  const before = new Map(previewed.vms.map((vm) => [vm.vmid, vm]));
  const now = new Map(saved.vms.map((vm) => [vm.vmid, vm]));
  const same: number[] = [];
  const leftOut: LeftOut[] = [];
  for (const vmid of vmids) {
    const a = before.get(vmid);
    const b = now.get(vmid);
    const node = a?.node ?? null;
    if (!a || !b) {
      const why = missing.find((m) => new RegExp(`\\b${vmid}\\b`).test(m));
      leftOut.push({ vmid, node, reason: why ?? 'not in the plan the shim read' });
    } else if (a.digest !== b.digest) {
      leftOut.push({ vmid, node, reason: 'changed since the preview (its config was edited); preview again' });
    } else if (planKey(a) !== planKey(b)) {
      leftOut.push({ vmid, node, reason: 'changed since the preview (its plan differs); preview again' });
    } else {
      same.push(vmid);
    }
  }
  return { same, leftOut };
}

/**
 * Saves the plan in the shim and starts the job for the VMs whose saved plan is the previewed one.
 * @throws JobsApiError when the shim refuses (read-only, a VM in another job)
 */
export async function startBulkApply(jobs: JobsApi, previewed: MigrationPlan, vmids: readonly number[], choice: RunChoice, signal?: AbortSignal): Promise<StartedJob | { job: null; leftOut: LeftOut[] }> {
  const byId = new Map(previewed.vms.map((vm) => [vm.vmid, vm]));
  const vms = vmids.map((vmid) => ({ vmid, node: byId.get(vmid)?.node ?? '' }));
  // The planner options the preview used, so the shim plans the same change.
  const o = previewed.options;
  const saved = await jobs.createPlan(
    {
      vms,
      aio: previewed.aio,
      ...(o.convertSata ? { convertSata: true } : {}),
      ...(o.convertIde ? { convertIde: true } : {}),
      ...(o.windowsStaged ? { windowsStaged: true } : {}),
      ...(o.overrides?.length ? { overrides: o.overrides } : {}),
    },
    signal,
  );
  if (!saved.id) throw new Error('the shim is read-only: the plan was read, not saved');
  const { same, leftOut } = matchPreview(previewed, saved.plan, vmids, saved.errors);
  if (same.length === 0) return { job: null, leftOut };
  const job = await jobs.startJob({ planId: saved.id, reboot: choice.reboot, perNodeRebootConcurrency: choice.perNode, vmids: same }, signal);
  return { job, leftOut };
}

/** A VM's state in words, as the progress list and the summary show it. */
export function vmStateText(vm: Pick<VmJobView, 'state' | 'reason'>): string {
  const words: Record<VmJobState, string> = {
    queued: 'queued',
    writing: 'writing',
    written: 'written, pending cold start',
    rebooting: 'rebooting',
    verified: 'verified',
    skipped: 'skipped',
    failed: 'failed',
  };
  const w = words[vm.state] ?? vm.state;
  return vm.reason && (vm.state === 'skipped' || vm.state === 'failed' || vm.state === 'written') ? `${w}: ${vm.reason}` : w;
}

/** Counts in the order a VM moves through them: "3 queued, 12 written, pending cold start, 1 failed". */
export function countsText(counts: Record<VmJobState, number>): string {
  const order: VmJobState[] = ['queued', 'writing', 'written', 'rebooting', 'verified', 'skipped', 'failed'];
  const parts = order.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${vmStateText({ state: s, reason: null })}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing done';
}

/** A past run in words: "finished", "cancelled (…)", "interrupted". */
export function runOutcome(job: JobListItem): string {
  const status = job.status === 'finished' && job.counts.failed > 0 ? 'finished with failures' : job.status;
  return job.stopReason ? `${status} (${job.stopReason})` : status;
}
