// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Plans and jobs as every front end sees them: the shim's `/dp/plans` and `/dp/jobs` API
 * (api-shim/contracts/jobs.ts adds the JSON schemas) and the jobs the PVE web UI runs in the
 * browser (panel/data/browser-jobs.ts) have the same request, job and event shapes.
 */
import type { RebootPolicy, VmOutcome } from '../migration/journal-model.js';
import type { MigrationPlan, TargetAio } from '../migration/types.js';

/** `POST /dp/plans`: the VMs as the panel showed them (VMID and node) and the planner options. */
export interface PlanRequest {
  vms: { vmid: number; node: string }[];
  aio?: TargetAio;
  convertSata?: boolean;
  convertIde?: boolean;
  windowsStaged?: boolean;
  /** Gate codes overridden (only overridable gates take effect). */
  overrides?: string[];
}

/** A saved plan: exactly what a job applies (each VM's digest is the one read for this preview). */
export interface PlanAnswer {
  /** Null when the shim is read-only: the preview is shown, nothing is saved, no job can run it. */
  id: string | null;
  createdAt: string;
  /** Who made it (token id or login user). */
  who: string;
  plan: MigrationPlan;
  /** VMs whose whole change is already written and pending: a job reboots them, never writes again. */
  alreadyPending: number[];
  /** VMs the plan could not read or that are not on the node the panel named, with the reason. */
  errors: string[];
}

/** Per-VM state in a job. */
export type VmJobState = 'queued' | 'writing' | 'written' | 'rebooting' | 'verified' | 'skipped' | 'failed';
export const VM_JOB_STATES: readonly VmJobState[] = ['queued', 'writing', 'written', 'rebooting', 'verified', 'skipped', 'failed'];

/**
 * `running`: working (or resumed after a restart); `finished`: every VM has its outcome;
 * `cancelled`: stopped by a cancel (the VMs not started are skipped); `interrupted`: the shim
 * stopped during the job and cannot resume it by itself (no credentials to act as its user).
 */
export type JobStatus = 'running' | 'finished' | 'cancelled' | 'interrupted';

/** Options of a run shared by `POST /dp/jobs` and `POST /dp/jobs/:id/rollback`. */
export interface RunRequest {
  reboot: RebootPolicy;
  /** VMs worked on at once (default 4). */
  concurrency?: number;
  /** Reboots at once per node (default 1). */
  perNodeRebootConcurrency?: number;
  /** Go on after a failed VM (default: the wave stops, the VMs not started are skipped). */
  continueOnFailure?: boolean;
  /** Only these VMs (of the plan, or of the job rolled back). */
  vmids?: number[];
}

/** `POST /dp/jobs`. */
export interface JobRequest extends RunRequest {
  planId: string;
}

/** `POST /dp/jobs/:id/rollback`. */
export type RollbackRequest = RunRequest;

/** One VM of a job. */
export interface VmJobView {
  vmid: number;
  node: string | null;
  state: VmJobState;
  /** Why skipped or failed, or what is left to do (pending cold start). */
  reason: string | null;
  /** The engine's outcome once final (`migrated`, `pending-reboot`, `restored`, …). */
  outcome: VmOutcome | null;
  /** Config digest before the job's first write, and after its last one. */
  digestBefore: string | null;
  digestAfter: string | null;
}

/** A job without its VMs (lists, the SSE summary). */
export interface JobListItem {
  id: string;
  kind: 'apply' | 'rollback';
  status: JobStatus;
  createdAt: string;
  finishedAt: string | null;
  who: string;
  planId: string | null;
  /** The job a rollback job rolls back. */
  source: string | null;
  reboot: RebootPolicy;
  concurrency: number;
  perNodeRebootConcurrency: number;
  continueOnFailure: boolean;
  cancelRequested: boolean;
  /** Why the job stopped starting VMs (cancel, first failure), or why it is interrupted. */
  stopReason: string | null;
  /** The JSONL journal (`pve-dataplane rollback --journal FILE` reads it too). */
  journal: string;
  counts: Record<VmJobState, number>;
}

/** `GET /dp/jobs/:id`. */
export interface JobView extends JobListItem {
  vms: VmJobView[];
}

/** `GET /dp/jobs`: newest first, past jobs found on disk included. */
export interface JobList {
  jobs: JobListItem[];
}

/**
 * `GET /dp/jobs/:id/events` (Server-Sent Events): `snapshot` first (the whole job), then `vm`
 * for each per-VM transition and `job` when the job's own state changes (cancel requested, wave
 * stopped), and last `summary` (then the stream ends). The event name is `type`, the data is the
 * rest as JSON. Each event has an id: reconnecting with `Last-Event-ID` replays what was missed,
 * or starts again with a snapshot when that id is not known (another shim process).
 */
export type JobEvent =
  | { type: 'snapshot'; job: JobView }
  | { type: 'vm'; vm: VmJobView }
  | { type: 'job'; job: JobListItem }
  | { type: 'summary'; job: JobListItem };
