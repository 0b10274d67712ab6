// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The shim's plans and jobs API (`/dp/plans`, `/dp/jobs`): every request body and answer, once,
 * as a TypeScript type (the panel imports them type-only) and as the Fastify JSON schema the
 * routes validate bodies with and serialise answers through. The two are kept in step by
 * test/shim/jobs-contract.test.ts, which checks real answers against the schemas.
 *
 * NOTE: answers are serialised through their schema (fast-json-stringify), so a field missing
 * here never reaches the panel; `additionalProperties: true` marks the parts (plan steps) whose
 * shape is the plan file's own contract (src/migration/types.ts).
 */
import type { RebootPolicy, VmOutcome } from '../../src/migration/journal-model.js';
import type { MigrationPlan, TargetAio } from '../../src/migration/types.js';

// --- types -------------------------------------------------------------------------------------

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

// --- schemas -----------------------------------------------------------------------------------

const vmid = { type: 'integer', minimum: 100, maximum: 999_999_999 } as const;
const node = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9.-]*$' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const reboot = { type: 'string', enum: ['never', 'now', 'if-stopped'] } as const;
const vmJobState = { type: 'string', enum: VM_JOB_STATES } as const;

export const planRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vms'],
  properties: {
    vms: {
      type: 'array',
      minItems: 1,
      maxItems: 20_000,
      items: { type: 'object', additionalProperties: false, required: ['vmid', 'node'], properties: { vmid, node } },
    },
    aio: { type: 'string', enum: ['threads', 'io_uring', 'native', 'keep'] },
    convertSata: { type: 'boolean' },
    convertIde: { type: 'boolean' },
    windowsStaged: { type: 'boolean' },
    overrides: { type: 'array', maxItems: 50, items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,63}$' } },
  },
} as const;

const gate = {
  type: 'object',
  additionalProperties: true,
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, disk: { type: 'string' }, override: { type: 'string' }, fix: { type: 'string' } },
} as const;

const keyChange = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'before', 'after', 'step'],
  properties: { key: { type: 'string' }, before: nullableString, after: nullableString, step: { type: 'integer' }, alreadyPending: { type: 'boolean' } },
} as const;

const vmPlan = {
  type: 'object',
  additionalProperties: true,
  required: ['vmid', 'node', 'name', 'status', 'digest', 'blocked', 'warnings', 'steps', 'changes', 'coldStartNeeded', 'path', 'eligible'],
  properties: {
    vmid: { type: 'integer' },
    node: nullableString,
    name: nullableString,
    status: { type: 'string' },
    ostype: nullableString,
    digest: { type: 'string' },
    risk: nullableString,
    ha: { anyOf: [{ type: 'null' }, { type: 'object', required: ['sid', 'state'], properties: { sid: { type: 'string' }, state: { type: 'string' } } }] },
    blocked: { type: 'array', items: gate },
    warnings: { type: 'array', items: gate },
    steps: { type: 'array', items: { type: 'object', additionalProperties: true } },
    changes: { type: 'array', items: keyChange },
    coldStartNeeded: { type: 'boolean' },
    path: { type: 'string', enum: ['direct', 'staged', 'none'] },
    eligible: { type: 'boolean' },
  },
} as const;

export const planAnswerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'createdAt', 'who', 'plan', 'alreadyPending', 'errors'],
  properties: {
    id: nullableString,
    createdAt: { type: 'string' },
    who: { type: 'string' },
    plan: {
      type: 'object',
      additionalProperties: true,
      required: ['version', 'aio', 'createdAt', 'options', 'vms'],
      properties: {
        version: { type: 'integer' },
        aio: { type: 'string' },
        createdAt: { type: 'string' },
        options: { type: 'object', additionalProperties: true },
        pve: nullableString,
        vms: { type: 'array', items: vmPlan },
        filtered: { type: 'array', items: { type: 'object', additionalProperties: true } },
      },
    },
    alreadyPending: { type: 'array', items: { type: 'integer' } },
    errors: { type: 'array', items: { type: 'string' } },
  },
} as const;

const runRequestProperties = {
  reboot,
  concurrency: { type: 'integer', minimum: 1, maximum: 32 },
  perNodeRebootConcurrency: { type: 'integer', minimum: 1, maximum: 16 },
  continueOnFailure: { type: 'boolean' },
  vmids: { type: 'array', minItems: 1, maxItems: 20_000, items: vmid },
} as const;

export const jobRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['planId', 'reboot'],
  properties: { planId: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' }, ...runRequestProperties },
} as const;

export const rollbackRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['reboot'],
  properties: runRequestProperties,
} as const;

export const vmJobViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vmid', 'node', 'state', 'reason', 'outcome', 'digestBefore', 'digestAfter'],
  properties: {
    vmid: { type: 'integer' },
    node: nullableString,
    state: vmJobState,
    reason: nullableString,
    outcome: { type: ['string', 'null'], enum: ['migrated', 'pending-reboot', 'skipped', 'failed', 'restored', 'awaiting-confirmation', null] },
    digestBefore: nullableString,
    digestAfter: nullableString,
  },
} as const;

const jobListItemProperties = {
  id: { type: 'string' },
  kind: { type: 'string', enum: ['apply', 'rollback'] },
  status: { type: 'string', enum: ['running', 'finished', 'cancelled', 'interrupted'] },
  createdAt: { type: 'string' },
  finishedAt: nullableString,
  who: { type: 'string' },
  planId: nullableString,
  source: nullableString,
  reboot,
  concurrency: { type: 'integer' },
  perNodeRebootConcurrency: { type: 'integer' },
  continueOnFailure: { type: 'boolean' },
  cancelRequested: { type: 'boolean' },
  stopReason: nullableString,
  journal: { type: 'string' },
  counts: {
    type: 'object',
    additionalProperties: false,
    required: VM_JOB_STATES,
    properties: Object.fromEntries(VM_JOB_STATES.map((s) => [s, { type: 'integer' }])) as Record<VmJobState, { type: 'integer' }>,
  },
} as const;
const jobListItemRequired = Object.keys(jobListItemProperties) as (keyof JobListItem)[];

export const jobListItemSchema = {
  type: 'object',
  additionalProperties: false,
  required: jobListItemRequired,
  properties: jobListItemProperties,
} as const;

export const jobViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: [...jobListItemRequired, 'vms'],
  properties: { ...jobListItemProperties, vms: { type: 'array', items: vmJobViewSchema } },
} as const;

export const jobListSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['jobs'],
  properties: { jobs: { type: 'array', items: jobListItemSchema } },
} as const;

/** The id in `/dp/plans/:id` and `/dp/jobs/:id`. */
export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' } },
} as const;

/** The shim's error body (api-shim/errors.ts `ShimErrorBody`). */
export const errorSchema = {
  type: 'object',
  required: ['data', 'message', 'code'],
  properties: { data: { type: 'null' }, message: { type: 'string' }, code: { type: 'string' } },
} as const;
