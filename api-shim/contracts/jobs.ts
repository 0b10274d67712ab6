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
import { VM_JOB_STATES, type JobListItem, type VmJobState } from '../../src/jobs/types.js';

// The types live in the isomorphic core (the browser runs jobs too); the schemas here.
export * from '../../src/jobs/types.js';

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
