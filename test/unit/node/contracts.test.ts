// SPDX-License-Identifier: AGPL-3.0-or-later
// The plan file and the journal are checked against their schemas (src/migration/schemas.ts) where
// they are read back: a bad field is named, nothing is cast.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/migration/planner.js';
import { checkJournalEntry, validatePlan } from '../../../src/node/contracts.js';
import { NotAJournalError, readPriorEntries } from '../../../src/node/journal.js';
import { vmFromText } from '../migration/helpers.js';

const THREADS = { aio: 'threads' } as const;

const plan = () =>
  JSON.parse(JSON.stringify(buildPlan([vmFromText('scsihw: lsi\nscsi0: local-lvm:vm-101-disk-0,size=8G\nostype: l26\n', { vmid: 101 })], THREADS))) as Record<string, unknown> & {
    vms: Record<string, unknown>[];
  };

describe('validatePlan', () => {
  it('accepts a plan the planner wrote, round-tripped through JSON', () => {
    const p = plan();
    expect(validatePlan(p, 'plan.json')).toBe(p);
  });

  it('names the file and the first bad field', () => {
    const wrongType = plan();
    wrongType.vms[0]!.digest = 42;
    expect(() => validatePlan(wrongType, 'plan.json')).toThrow("plan.json: not a valid plan: vms[0].digest: must be string; make it again with 'pve-dataplane plan --output'");
    const unknownGate = plan();
    unknownGate.vms[0]!.blocked = [{ code: 'NO_SUCH_GATE', message: 'x' }];
    expect(() => validatePlan(unknownGate, 'plan.json')).toThrow(/vms\[0\]\.blocked\[0\]\.code: must be equal to one of the allowed values \(.*PASSTHROUGH_ROOT_ONLY/);
    const badAio = { ...plan(), aio: 'fast' };
    expect(() => validatePlan(badAio, 'plan.json')).toThrow(/plan\.json: not a valid plan: aio: must be equal to one of the allowed values \(threads, io_uring, native, keep\)/);
  });
});

describe('journal entries', () => {
  const base = { v: 1, ts: '2026-01-01T00:00:00Z', run: 'apply-1' };

  it('checks each kind of entry by its own fields', () => {
    expect(checkJournalEntry({ ...base, t: 'vm', vmid: 101, node: 'pve1', result: 'migrated' })).toHaveProperty('entry');
    expect(checkJournalEntry({ ...base, t: 'vm', vmid: 101, node: 'pve1', result: 'done' })).toEqual({
      error: 'result: must be equal to one of the allowed values (migrated, pending-reboot, skipped, failed, restored, awaiting-confirmation)',
    });
    expect(checkJournalEntry({ ...base, t: 'write', vmid: 101, node: 'pve1', step: 1, purpose: 'apply', digest: 'd', previous: {}, previousPending: {}, set: { scsihw: 1 }, delete: [], attempt: 1 })).toEqual({
      error: 'set.scsihw: must be string',
    });
  });

  it('a --journal file of other JSON lines is refused naming the bad field, never resumed from', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dp-journal-')), 'j.jsonl');
    writeFileSync(path, `${JSON.stringify({ v: 1, t: 'baseline', ts: 'x', run: 'r', vmid: 101 })}\n`);
    expect(() => readPriorEntries(path, () => {})).toThrow(NotAJournalError);
    expect(() => readPriorEntries(path, () => {})).toThrow(/line 1 is not a journal entry: must have required property 'node'\)/);
  });
});
