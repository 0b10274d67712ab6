// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The boundary checks of the files the migration reads back: a plan file and the lines of a
 * journal, against the schemas declared once in src/migration/schemas.ts. ajv compiles them into
 * functions at run time (`new Function`), which the panel's Content-Security-Policy does not allow,
 * so the compiled validators live on the Node side.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { ApplyRefusedError } from '../migration/apply.js';
import type { JournalEntry } from '../migration/journal-model.js';
import { JOURNAL_ENTRY_SCHEMA, PLAN_SCHEMA } from '../migration/schemas.js';
import type { MigrationPlan } from '../migration/types.js';

const ajv = new Ajv({ allErrors: false, strict: false });
const planValidator = ajv.compile<MigrationPlan>(PLAN_SCHEMA);
const entryValidator = ajv.compile<JournalEntry>(JOURNAL_ENTRY_SCHEMA);

/** `/vms/3/digest must be string` → `vms[3].digest: must be string`. */
function describe(error: ErrorObject | undefined): string {
  if (!error) return 'not valid';
  const path = error.instancePath
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  const allowed = error.keyword === 'enum' ? ` (${(error.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ')})` : '';
  return `${path ? `${path}: ` : ''}${error.message ?? 'not valid'}${allowed}`;
}

/**
 * The plan in `plan`, checked against the plan schema.
 * @throws ApplyRefusedError naming `source` and the first bad field
 */
export function validatePlan(plan: unknown, source = 'plan'): MigrationPlan {
  if (!plan || typeof plan !== 'object' || Array.isArray(plan)) throw new ApplyRefusedError(`${source}: not a plan (expected a JSON object)`);
  const version = (plan as { version?: unknown }).version;
  if (version !== 1) throw new ApplyRefusedError(`${source}: plan version ${String(version)} is not supported (this tool reads version 1); plan again`);
  if (!planValidator(plan)) {
    throw new ApplyRefusedError(`${source}: not a valid plan: ${describe(planValidator.errors?.[0])}; make it again with 'pve-dataplane plan --output'`);
  }
  return plan;
}

/** The journal entry in `value`, or why it is not one. */
export function checkJournalEntry(value: unknown): { entry: JournalEntry } | { error: string } {
  if (entryValidator(value)) return { entry: value };
  return { error: describe(entryValidator.errors?.[0]) };
}
