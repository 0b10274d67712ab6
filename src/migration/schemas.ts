// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The plan file and the journal, declared once as JSON Schema (draft-07), beside their types
 * (types.ts, journal-model.ts). Validated where they cross a boundary: reading a plan file or a
 * journal (src/node/contracts.ts, with ajv). Pure data, so the browser side can use the same
 * declarations. Extra fields are allowed (a newer tool may add some); a field that is there must
 * have its type.
 */
import { GATES } from './gates.js';
import { JOURNAL_VERSION } from './journal-model.js';
import { PLAN_VERSION } from './types.js';

type Schema = Record<string, unknown>;

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const nullableStringMap = { type: 'object', additionalProperties: { type: ['string', 'null'] } } as const;
// PVE's VMIDs start at 100; the journal and plan only need a positive id (tests use small ones).
const vmid = { type: 'integer', minimum: 1 } as const;
const riskLevel = { enum: ['critical', 'warning', 'info', 'ok', 'unknown', null] } as const;
const reboot = { enum: ['never', 'now', 'if-stopped'] } as const;
const outcome = { enum: ['migrated', 'pending-reboot', 'skipped', 'failed', 'restored', 'awaiting-confirmation'] } as const;
const powerAction = { enum: ['reboot', 'start', 'shutdown', 'stop'] } as const;
const pendingDeletes = {
  type: 'array',
  items: { type: 'object', required: ['key', 'force'], properties: { key: str, force: bool } },
} as const;

const gate = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { enum: Object.keys(GATES) }, message: str, disk: str, override: str, fix: str },
} as const;

const step = {
  type: 'object',
  required: ['n', 'kind', 'description'],
  properties: {
    n: int,
    kind: { enum: ['write', 'cold-start', 'shutdown', 'verify-guest-disk'] },
    description: str,
    set: stringMap,
    delete: { type: 'array', items: str },
    disk: str,
    serial: str,
    force: bool,
    allocates: { type: 'array', items: str },
  },
} as const;

const change = {
  type: 'object',
  required: ['key', 'before', 'after', 'step'],
  properties: { key: str, before: strOrNull, after: strOrNull, step: int, alreadyPending: bool },
} as const;

const vmPlan = {
  type: 'object',
  required: ['vmid', 'node', 'digest', 'blocked', 'warnings', 'steps', 'changes', 'coldStartNeeded', 'path', 'eligible'],
  properties: {
    vmid,
    node: strOrNull,
    name: strOrNull,
    status: str,
    ostype: strOrNull,
    digest: str,
    risk: riskLevel,
    ha: { oneOf: [{ type: 'null' }, { type: 'object', required: ['sid', 'state'], properties: { sid: str, state: str } }] },
    blocked: { type: 'array', items: gate },
    warnings: { type: 'array', items: gate },
    steps: { type: 'array', items: step },
    changes: { type: 'array', items: change },
    coldStartNeeded: bool,
    path: { enum: ['direct', 'staged', 'none'] },
    eligible: bool,
  },
} as const;

/** `pve-dataplane plan --output plan.json` (MigrationPlan). */
export const PLAN_SCHEMA: Schema = {
  $id: 'pve-dataplane/plan',
  type: 'object',
  required: ['version', 'aio', 'options', 'vms'],
  properties: {
    version: { const: PLAN_VERSION },
    aio: { enum: ['threads', 'io_uring', 'native', 'keep'] },
    createdAt: str,
    options: { type: 'object', properties: { aio: { enum: ['threads', 'io_uring', 'native', 'keep'] }, overrides: { type: 'array', items: str } } },
    pve: strOrNull,
    vms: { type: 'array', items: vmPlan },
    filtered: { type: 'array', items: { type: 'object', required: ['vmid'], properties: { vmid } } },
  },
};

const base = { v: { const: JOURNAL_VERSION }, ts: str, run: str } as const;
const entry = (t: string, required: string[], properties: Schema): Schema => ({
  type: 'object',
  required: ['v', 'ts', 'run', 't', ...required],
  properties: { ...base, t: { const: t }, ...properties },
});

/** One line of a journal (JournalEntry), chosen by `t`. */
export const JOURNAL_ENTRY_SCHEMA: Schema = {
  $id: 'pve-dataplane/journal-entry',
  type: 'object',
  required: ['t'],
  properties: { t: { enum: ['run', 'baseline', 'write', 'write-done', 'power', 'power-done', 'verify', 'vm', 'end'] } },
  allOf: [
    { if: { properties: { t: { const: 'run' } } }, then: entry('run', ['kind', 'reboot'], { kind: { enum: ['apply', 'rollback'] }, plan: str, planHash: str, pve: strOrNull, reboot, pid: int }) },
    {
      if: { properties: { t: { const: 'baseline' } } },
      then: entry('baseline', ['vmid', 'node', 'digest', 'status', 'current', 'pending', 'deletes'], {
        vmid,
        node: str,
        digest: str,
        status: str,
        current: stringMap,
        pending: stringMap,
        deletes: pendingDeletes,
      }),
    },
    {
      if: { properties: { t: { const: 'write' } } },
      then: entry('write', ['vmid', 'node', 'step', 'purpose', 'digest', 'previous', 'previousPending', 'set', 'delete', 'attempt'], {
        vmid,
        node: str,
        step: int,
        purpose: { enum: ['apply', 'rollback'] },
        digest: str,
        previous: nullableStringMap,
        previousPending: nullableStringMap,
        set: stringMap,
        delete: { type: 'array', items: str },
        revert: { type: 'array', items: str },
        force: bool,
        allocates: { type: 'array', items: str },
        attempt: int,
      }),
    },
    {
      if: { properties: { t: { const: 'write-done' } } },
      then: entry('write-done', ['vmid', 'step', 'ok'], { vmid, step: int, ok: bool, error: str, code: str, upid: str, digest: str, values: nullableStringMap }),
    },
    { if: { properties: { t: { const: 'power' } } }, then: entry('power', ['vmid', 'node', 'action', 'ha', 'step'], { vmid, node: str, action: powerAction, ha: bool, step: int }) },
    { if: { properties: { t: { const: 'power-done' } } }, then: entry('power-done', ['vmid', 'action', 'ok'], { vmid, action: powerAction, ok: bool, error: str, upid: str }) },
    { if: { properties: { t: { const: 'verify' } } }, then: entry('verify', ['vmid', 'step', 'ok', 'detail'], { vmid, step: int, ok: bool, detail: str }) },
    { if: { properties: { t: { const: 'vm' } } }, then: entry('vm', ['vmid', 'node', 'result'], { vmid, node: strOrNull, result: outcome, reason: str, digest: str }) },
    { if: { properties: { t: { const: 'end' } } }, then: entry('end', ['counts'], { counts: { type: 'object', additionalProperties: int } }) },
  ],
};
