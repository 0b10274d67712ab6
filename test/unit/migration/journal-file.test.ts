// SPDX-License-Identifier: AGPL-3.0-or-later
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NewEntry, type WriteIntentEntry, replayJournal, touchedKeys } from '../../../src/migration/journal-model.js';
import { JsonlJournal, readJournal } from '../../../src/node/journal.js';
import { defaultJournalPath, stateDir } from '../../../src/node/state-dir.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'dp-journal-'));
}

const write = (vmid: number, step: number): NewEntry<WriteIntentEntry> => ({
    t: 'write',
    vmid,
    node: 'pve1',
    step,
    purpose: 'apply',
    digest: 'a'.repeat(40),
    previous: { scsihw: null, scsi0: 'local-lvm:vm-1-disk-0,size=8G' },
    previousPending: { scsihw: null, scsi0: null },
    set: { scsihw: 'virtio-scsi-single', scsi0: 'local-lvm:vm-1-disk-0,size=8G,iothread=1' },
    delete: [],
    attempt: 1,
});

describe('JsonlJournal', () => {
  it('appends one JSON line per entry, in call order, stamped with version, time and run', async () => {
    const path = join(tmp(), 'sub', 'j.jsonl');
    const j = JsonlJournal.open(path, 'run-1');
    await Promise.all([j.append(write(101, 1)), j.append({ t: 'write-done', vmid: 101, step: 1, ok: true, digest: 'b'.repeat(40) })]);
    await j.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ v: 1, run: 'run-1', t: 'write', vmid: 101 });
    expect(Date.parse(first.ts)).not.toBeNaN();
    expect(JSON.parse(lines[1]!).t).toBe('write-done');
  });

  it('never rewrites earlier lines: a second run appends after the first', async () => {
    const path = join(tmp(), 'j.jsonl');
    const a = JsonlJournal.open(path, 'run-a');
    await a.append(write(101, 1));
    await a.close();
    const before = readFileSync(path, 'utf8');
    const b = JsonlJournal.open(path, 'run-b');
    await b.append({ t: 'write-done', vmid: 101, step: 1, ok: true });
    await b.close();
    const after = readFileSync(path, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    const { entries } = readJournal(path);
    expect(entries.map((e) => e.run)).toEqual(['run-a', 'run-b']);
  });

  it('survives a line cut short by a crash: reader reports it, the next entry starts on a new line', async () => {
    const path = join(tmp(), 'j.jsonl');
    const a = JsonlJournal.open(path, 'run-a');
    await a.append(write(101, 1));
    await a.close();
    appendFileSync(path, '{"v":1,"t":"write-done","vmid":101,"st');
    const cut = readJournal(path);
    expect(cut.entries).toHaveLength(1);
    expect(cut.damaged).toEqual([{ line: 2, text: '{"v":1,"t":"write-done","vmid":101,"st' }]);
    const b = JsonlJournal.open(path, 'run-b');
    await b.append({ t: 'vm', vmid: 101, node: 'pve1', result: 'migrated' });
    await b.close();
    const read = readJournal(path);
    expect(read.entries.map((e) => e.t)).toEqual(['write', 'vm']);
    expect(read.damaged).toHaveLength(1);
  });

  it('a failed append rejects that call only', async () => {
    const path = join(tmp(), 'j.jsonl');
    const j = JsonlJournal.open(path, 'r');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(j.append({ t: 'vm', vmid: 1, node: null, result: 'failed', reason: cyclic as never })).rejects.toThrow();
    await j.append({ t: 'vm', vmid: 2, node: null, result: 'skipped' });
    await j.close();
    expect(readJournal(path).entries.map((e) => (e as { vmid: number }).vmid)).toEqual([2]);
  });

  it('names the file when it cannot be read', () => {
    expect(() => readJournal('/nonexistent/dir/j.jsonl')).toThrow(/\/nonexistent\/dir\/j\.jsonl/);
  });
});

describe('replayJournal', () => {
  it('pairs intents with outcomes per run and step, and keeps the first baseline', () => {
    const path = join(tmp(), 'j.jsonl');
    writeFileSync(
      path,
      [
        { v: 1, ts: 't', run: 'a', t: 'baseline', vmid: 101, node: 'pve1', digest: 'd1', status: 'running', current: { scsi0: 'x' }, pending: {}, deletes: [] },
        { v: 1, ts: 't', run: 'a', ...write(101, 1) },
        { v: 1, ts: 't', run: 'b', t: 'baseline', vmid: 101, node: 'pve1', digest: 'd2', status: 'running', current: {}, pending: {}, deletes: [] },
        { v: 1, ts: 't', run: 'b', ...write(101, 1) },
        { v: 1, ts: 't', run: 'b', t: 'write-done', vmid: 101, step: 1, ok: true },
        { v: 1, ts: 't', run: 'b', t: 'power', vmid: 101, node: 'pve1', action: 'reboot', ha: false, step: 2 },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    const vm = replayJournal(readJournal(path).entries).get(101)!;
    expect(vm.baseline!.digest).toBe('d1');
    expect(vm.writes.map((w) => [w.intent.run, w.outcome?.ok ?? null])).toEqual([
      ['a', null],
      ['b', true],
    ]);
    expect(vm.power[0]!.outcome).toBeNull();
    expect(touchedKeys(vm)).toEqual(['scsihw', 'scsi0']);
  });
});

describe('state dir', () => {
  it('follows XDG_STATE_HOME, else ~/.local/state', () => {
    expect(stateDir({ XDG_STATE_HOME: '/x/state' })).toBe('/x/state/pve-dataplane');
    expect(stateDir({})).toMatch(/\/\.local\/state\/pve-dataplane$/);
    expect(defaultJournalPath('0123456789abcdef0123', { XDG_STATE_HOME: '/s' })).toBe('/s/pve-dataplane/journals/apply-0123456789ab.jsonl');
  });
});
