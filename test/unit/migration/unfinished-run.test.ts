// SPDX-License-Identifier: AGPL-3.0-or-later
// Which run of a journal a resume continues (the PVE-UI tab offers it when its page was closed).
import { describe, expect, it } from 'vitest';
import { type JournalEntry, unfinishedRun } from '../../../src/migration/journal-model.js';

const at = (run: string, e: object): JournalEntry => ({ v: 1, ts: '2026-01-01T00:00:00.000Z', run, ...e }) as JournalEntry;
const apply1 = at('apply-1', { t: 'run', kind: 'apply', reboot: 'never' });
const write1 = at('apply-1', { t: 'write', vmid: 100, node: 'pve1', step: 1, purpose: 'apply', digest: 'd', previous: {}, previousPending: {}, set: { scsihw: 'virtio-scsi-single' }, delete: [], attempt: 1 });

describe('unfinishedRun', () => {
  it('names the last run when the page closed before its end entry', () => {
    expect(unfinishedRun([apply1, write1])?.run).toBe('apply-1');
  });

  it('is null once a later run (the resume) ended, even though the first never did', () => {
    const resume = at('apply-2', { t: 'run', kind: 'apply', reboot: 'never' });
    expect(unfinishedRun([apply1, write1, resume, at('apply-2', { t: 'end', counts: { migrated: 1 } })])).toBeNull();
  });

  it('names a rollback cut short after a finished apply', () => {
    const rollback = at('rollback-1', { t: 'run', kind: 'rollback', reboot: 'never' });
    const entries = [apply1, write1, at('apply-1', { t: 'end', counts: {} }), rollback];
    expect(unfinishedRun(entries)?.kind).toBe('rollback');
  });

  it('is null for an empty journal', () => {
    expect(unfinishedRun([])).toBeNull();
  });
});
