// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import { applyPlan, compareToSaved } from '../../../src/migration/apply.js';
import { validatePlan } from '../../../src/node/contracts.js';
import { JOURNAL_VERSION, type JournalEntry, type NewEntry } from '../../../src/migration/journal-model.js';
import { buildPlan } from '../../../src/migration/planner.js';
import { rollbackJournal } from '../../../src/migration/rollback.js';
import type { EngineOptions, JournalWriter } from '../../../src/migration/runner.js';
import type { MigrationPlan, PlanOptions } from '../../../src/migration/types.js';
import { FakePve, type FakeVm, fakeVm } from './fake-pve.js';
import { conf } from './helpers.js';

/** A journal in memory that can "kill the process" at the n-th append. */
class MemJournal implements JournalWriter {
  count = 0;
  constructor(
    readonly run: string,
    readonly store: JournalEntry[],
    private readonly crash?: { at: number; persisted: boolean; ctrl: AbortController },
  ) {}

  async append(entry: NewEntry): Promise<void> {
    const full = { v: JOURNAL_VERSION, ts: new Date().toISOString(), run: this.run, ...entry } as JournalEntry;
    if (this.crash && this.count++ === this.crash.at) {
      if (this.crash.persisted) this.store.push(full);
      this.crash.ctrl.abort(new Error('killed'));
      throw new Error('killed');
    }
    if (this.crash?.ctrl.signal.aborted) throw new Error('killed');
    this.store.push(full);
  }
}

const LINUX = conf(
  'boot: order=scsi0;net0',
  'ide2: local:iso/debian.iso,media=cdrom,size=600M',
  'memory: 2048',
  'ostype: l26',
  'scsi0: local-lvm:vm-VMID-disk-0,discard=on,size=32G,ssd=1',
  'scsi1: local-lvm:vm-VMID-disk-1,backup=0,cache=writeback,size=8G',
  'scsihw: virtio-scsi-pci',
);

function linuxVm(vmid: number, o: Partial<FakeVm> = {}): FakeVm {
  return fakeVm(vmid, LINUX.replaceAll('VMID', String(vmid)), o);
}

async function planFor(pve: FakePve, opts: PlanOptions = { aio: 'threads' }): Promise<MigrationPlan> {
  const inputs = [];
  for (const vm of pve.vms.values()) {
    const live = await pve.readVm(vm.node, vm.vmid);
    inputs.push({ input: live.input, report: pve.analyze(live), ha: await pve.haResource(vm.vmid) });
  }
  // Through JSON, like a plan file.
  return validatePlan(JSON.parse(JSON.stringify(buildPlan(inputs, opts))));
}

const FAST: Omit<EngineOptions, 'reboot'> = { pollMs: 0, powerTimeoutMs: 2000, restartGraceMs: 200, agentWaitMs: 50 };

async function apply(pve: FakePve, plan: MigrationPlan, store: JournalEntry[], o: Partial<Parameters<typeof applyPlan>[4]> = {}) {
  const journal = new MemJournal(`apply-${store.length}`, store);
  pve.journalLength = () => store.length;
  return applyPlan(plan, pve, journal, [...store], { ...FAST, reboot: 'now', ...o });
}

async function rollback(pve: FakePve, store: JournalEntry[], o: Partial<EngineOptions> = {}) {
  const journal = new MemJournal(`rollback-${store.length}`, store);
  return rollbackJournal([...store], pve, journal, { ...FAST, reboot: 'now', ...o });
}

function resultOf(summary: { results: { vmid: number; result: string; reason?: string }[] }, vmid: number) {
  return summary.results.find((r) => r.vmid === vmid)!;
}

describe('apply', () => {
  it('writes once per VM with the digest, reboots, verifies, and journals before every request', async () => {
    const pve = new FakePve([linuxVm(101), linuxVm(102, { status: 'stopped' })]);
    const plan = await planFor(pve);
    const store: JournalEntry[] = [];
    const summary = await apply(pve, plan, store);
    expect(summary.counts).toEqual({ migrated: 2 });
    for (const vmid of [101, 102]) {
      const vm = pve.vms.get(vmid)!;
      expect(vm.current.scsihw).toBe('virtio-scsi-single');
      // PVE stores drive strings canonically (print_drive): same options, keys sorted.
      expect(vm.current.scsi0).toBe(`local-lvm:vm-${vmid}-disk-0,aio=threads,discard=on,iothread=1,size=32G,ssd=1`);
      expect(vm.current.scsi1).toBe(`local-lvm:vm-${vmid}-disk-1,aio=threads,backup=0,cache=writeback,iothread=1,size=8G`);
      expect(vm.pending).toEqual({});
      expect(pve.writes.filter((w) => w.vmid === vmid)).toHaveLength(1);
    }
    expect(pve.vms.get(101)!.status).toBe('running');
    expect(pve.vms.get(102)!.status).toBe('stopped');
    // Every request arrived after its intent was journalled.
    for (const req of pve.requestLog) {
      const intents = store.slice(0, req.journal).filter((e) => (e.t === 'write' || e.t === 'power') && e.vmid === req.vmid);
      expect(intents.length, `${req.what} ${req.vmid}`).toBeGreaterThan(0);
      const last = intents.at(-1)!;
      expect(last.t === 'write' ? 'write' : (last as { action: string }).action).toBe(req.what);
    }
    const intent = store.find((e) => e.t === 'write' && e.vmid === 101)!;
    expect(intent).toMatchObject({
      node: 'pve1',
      digest: expect.stringMatching(/^[0-9a-f]{40}$/),
      previous: { scsihw: 'virtio-scsi-pci', scsi0: 'local-lvm:vm-101-disk-0,discard=on,size=32G,ssd=1' },
      step: 1,
    });
  });

  it('--reboot never leaves the change pending; a later apply --reboot now resumes with the reboot only', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const plan = await planFor(pve);
    const store: JournalEntry[] = [];
    const first = await apply(pve, plan, store, { reboot: 'never' });
    expect(resultOf(first, 101)).toMatchObject({ result: 'pending-reboot', reason: expect.stringContaining('guest is not enough') });
    expect(pve.vms.get(101)!.pending.scsihw).toBe('virtio-scsi-single');
    const second = await apply(pve, plan, store, { reboot: 'now' });
    expect(resultOf(second, 101).result).toBe('migrated');
    expect(pve.writes).toHaveLength(1);
    expect(pve.vms.get(101)!.current.scsihw).toBe('virtio-scsi-single');
  });

  it('--reboot if-stopped changes stopped VMs only', async () => {
    const pve = new FakePve([linuxVm(101), linuxVm(102, { status: 'stopped' })]);
    const summary = await apply(pve, await planFor(pve), [], { reboot: 'if-stopped' });
    expect(resultOf(summary, 101)).toMatchObject({ result: 'skipped', reason: expect.stringContaining('if-stopped') });
    // The panel shows this reason; "migrates" reads like a live migration to a PVE admin.
    expect(resultOf(summary, 101).reason).not.toMatch(/migrat/i);
    expect(resultOf(summary, 102).result).toBe('migrated');
    expect(pve.writes.map((w) => w.vmid)).toEqual([102]);
  });

  it('--reboot if-stopped after --reboot never: a running VM already written reads "pending reboot", not "skipped"', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const plan = await planFor(pve);
    const store: JournalEntry[] = [];
    await apply(pve, plan, store, { reboot: 'never' });
    const summary = await apply(pve, plan, store, { reboot: 'if-stopped' });
    expect(resultOf(summary, 101)).toMatchObject({ result: 'pending-reboot', reason: expect.stringContaining('if-stopped') });
    expect(pve.writes).toHaveLength(1);
  });

  it('a concurrent edit of another key: re-read, re-plan, retry; the edit survives (no lost update)', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const plan = await planFor(pve);
    let edits = 0;
    pve.onBeforeWrite = (vm) => {
      if (edits++ < 2) vm.current.memory = String(4096 + edits);
    };
    const summary = await apply(pve, plan, []);
    expect(resultOf(summary, 101).result).toBe('migrated');
    expect(pve.vms.get(101)!.current.memory).toBe('4098');
    expect(pve.vms.get(101)!.current.scsihw).toBe('virtio-scsi-single');
  });

  it('a VM whose config keeps changing fails after the bounded retries, with nothing written', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const plan = await planFor(pve);
    let n = 0;
    pve.onBeforeWrite = (vm) => {
      vm.current.memory = String(1000 + n++);
    };
    const summary = await apply(pve, plan, [], { maxAttempts: 3 });
    expect(resultOf(summary, 101)).toMatchObject({ result: 'failed', reason: expect.stringContaining('3 digest mismatches') });
    expect(pve.writes).toHaveLength(0);
    expect(pve.vms.get(101)!.current.memory).toBe('1002');
  });

  it('a concurrent edit of one of our keys is reported, not overwritten', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const plan = await planFor(pve);
    const edited = 'local-lvm:vm-101-disk-1,backup=0,cache=none,size=8G';
    pve.onBeforeWrite = (vm) => {
      vm.current.scsi1 = edited;
    };
    const summary = await apply(pve, plan, []);
    expect(resultOf(summary, 101)).toMatchObject({ result: 'failed', reason: expect.stringMatching(/changed since the plan: scsi1/) });
    expect(pve.vms.get(101)!.current.scsi1).toBe(edited);
    expect(pve.writes).toHaveLength(0);
  });

  it('a guest that ignores ACPI: shutdown timeout reported, VM keeps running, change stays pending', async () => {
    const pve = new FakePve([linuxVm(101, { ignoresAcpi: true })]);
    const summary = await apply(pve, await planFor(pve), []);
    expect(resultOf(summary, 101)).toMatchObject({ result: 'failed', reason: expect.stringMatching(/powerdown failed.*keeps running its old settings/) });
    expect(pve.vms.get(101)!.status).toBe('running');
    expect(pve.vms.get(101)!.current.scsihw).toBe('virtio-scsi-pci');
  });

  it('HA-managed VMs are rebooted and waited on until HA reports started', async () => {
    const pve = new FakePve([linuxVm(101, { ha: { state: 'started' } })]);
    const plan = await planFor(pve);
    expect(plan.vms[0]!.warnings.map((w) => w.code)).toContain('HA_MANAGED');
    const store: JournalEntry[] = [];
    const summary = await apply(pve, plan, store);
    expect(resultOf(summary, 101).result).toBe('migrated');
    expect(store.find((e) => e.t === 'power')).toMatchObject({ action: 'reboot', ha: true });
  });

  it('skips blocked VMs with their reason and never touches them', async () => {
    const pve = new FakePve([linuxVm(101), fakeVm(102, LINUX.replaceAll('VMID', '102') + 'lock: backup\n')]);
    const summary = await apply(pve, await planFor(pve), []);
    expect(resultOf(summary, 102)).toMatchObject({ result: 'skipped', reason: expect.stringContaining('VM_LOCKED') });
    expect(pve.writes.map((w) => w.vmid)).toEqual([101]);
  });

  it('re-plans a VM that became locked after planning and skips it', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const plan = await planFor(pve);
    pve.vms.get(101)!.current.lock = 'migrate';
    const summary = await apply(pve, plan, []);
    expect(resultOf(summary, 101)).toMatchObject({ result: 'skipped', reason: expect.stringContaining('locked (migrate)') });
  });
});

describe('rollback', () => {
  it('after apply --reboot now: every config file byte-identical to before (same digest)', async () => {
    const pve = new FakePve([linuxVm(101), linuxVm(102, { status: 'stopped' })]);
    const before = new Map([...pve.vms.keys()].map((id) => [id, pve.text(id)]));
    const store: JournalEntry[] = [];
    await apply(pve, await planFor(pve), store);
    const summary = await rollback(pve, store);
    expect(summary.results, JSON.stringify(summary.results)).toHaveLength(2);
    expect(summary.counts).toEqual({ restored: 2 });
    for (const [id, text] of before) {
      expect(pve.text(id)).toBe(text);
      expect(resultOf(summary, id).reason).toContain('byte-identical');
    }
    expect(pve.vms.get(101)!.status).toBe('running');
  });

  it('names a VM apply only cold-started (its change was pending before apply): nothing of ours to restore', async () => {
    const pve = new FakePve([linuxVm(101)]);
    // Someone (an earlier run without this journal) left the migration pending.
    await apply(pve, await planFor(pve), [], { reboot: 'never' });
    const store: JournalEntry[] = [];
    const applied = await apply(pve, await planFor(pve), store);
    expect(resultOf(applied, 101).result).toBe('migrated');
    const summary = await rollback(pve, store);
    expect(resultOf(summary, 101)).toMatchObject({
      result: 'skipped',
      reason: expect.stringContaining('already pending before this apply'),
    });
    expect(resultOf(summary, 101).reason).toContain('scsihw');
  });

  it('after apply --reboot never: reverts the pending change, no reboot needed', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const before = pve.text(101);
    const store: JournalEntry[] = [];
    await apply(pve, await planFor(pve), store, { reboot: 'never' });
    const summary = await rollback(pve, store, { reboot: 'never' });
    expect(resultOf(summary, 101).result).toBe('restored');
    expect(pve.text(101)).toBe(before);
    expect(pve.writes.at(-1)!.req.revert).toEqual(expect.arrayContaining(['scsihw', 'scsi0', 'scsi1']));
  });

  it('refuses a VM that changed since, with the reason', async () => {
    const pve = new FakePve([linuxVm(101)]);
    const store: JournalEntry[] = [];
    await apply(pve, await planFor(pve), store);
    pve.vms.get(101)!.current.scsi0 = 'local-lvm:vm-101-disk-0,size=40G';
    const summary = await rollback(pve, store);
    expect(resultOf(summary, 101)).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/refused: changed since apply: scsi0 is now/) });
    expect(pve.vms.get(101)!.current.scsi0).toBe('local-lvm:vm-101-disk-0,size=40G');
  });

  it('--vmid limits the rollback', async () => {
    const pve = new FakePve([linuxVm(101), linuxVm(102)]);
    const store: JournalEntry[] = [];
    await apply(pve, await planFor(pve), store);
    const summary = await rollback(pve, store, { vmids: [102] });
    expect(summary.results.map((r) => r.vmid)).toEqual([102]);
    expect(pve.vms.get(101)!.current.scsihw).toBe('virtio-scsi-single');
  });
});

describe('crash and resume', () => {
  it('killed at every journal point: resume completes, rollback restores every file byte-for-byte', async () => {
    const make = (): FakePve => new FakePve([linuxVm(101), linuxVm(102, { status: 'stopped' }), linuxVm(103, { ha: { state: 'started' } })]);
    // Count the journal entries of an uninterrupted run.
    const probe = make();
    const full: JournalEntry[] = [];
    await apply(probe, await planFor(probe), full, { concurrency: 2 });
    expect(full.length).toBeGreaterThan(10);
    for (let at = 0; at < full.length; at++) {
      for (const persisted of [false, true]) {
        const pve = make();
        const before = new Map([...pve.vms.keys()].map((id) => [id, pve.text(id)]));
        const plan = await planFor(pve);
        const store: JournalEntry[] = [];
        const ctrl = new AbortController();
        const killed = new MemJournal('killed', store, { at, persisted, ctrl });
        pve.journalLength = () => store.length;
        await expect(applyPlan(plan, pve, killed, [], { ...FAST, reboot: 'now', concurrency: 2, signal: ctrl.signal })).rejects.toThrow('killed');
        // PVE finishes what it was doing (a reboot in flight completes on its own).
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        const resumed = await apply(pve, plan, store, { concurrency: 2 });
        expect(resumed.counts, `crash at ${at} persisted=${persisted}`).toEqual({ migrated: 3 });
        for (const vm of pve.vms.values()) expect(vm.current.scsihw).toBe('virtio-scsi-single');
        const back = await rollback(pve, store);
        expect(back.counts, `rollback after crash at ${at} ${JSON.stringify(back.results)}`).toEqual({ restored: 3 });
        for (const [id, text] of before) expect(pve.text(id), `vm ${id} crash at ${at}`).toBe(text);
      }
    }
  });
});

describe('Windows staged path', () => {
  const WIN = conf(
    'agent: 1',
    'boot: order=scsi0;ide2;net0',
    'ide2: none,media=cdrom',
    'ostype: win10',
    'scsi0: local-lvm:vm-201-disk-0,discard=on,size=64G',
    'scsi1: local-lvm:vm-201-disk-1,size=100G',
  );
  const staged: PlanOptions = { aio: 'threads', windowsStaged: true };

  it('attaches the temp disk, checks the guest, moves the boot disk, removes the temp disk', async () => {
    const pve = new FakePve([fakeVm(201, WIN, { guestDisk: 'yes' })]);
    const before = pve.text(201);
    const plan = await planFor(pve, staged);
    expect(plan.vms[0]!.path).toBe('staged');
    const store: JournalEntry[] = [];
    const summary = await apply(pve, plan, store);
    expect(resultOf(summary, 201).result).toBe('migrated');
    const vm = pve.vms.get(201)!;
    expect(vm.current).toMatchObject({
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:vm-201-disk-0,aio=threads,discard=on,iothread=1,size=64G',
      boot: 'order=scsi0;ide2;net0',
    });
    expect(Object.keys(vm.current).filter((k) => /^(sata|scsi[2-9])/.test(k))).toEqual([]);
    expect(vm.status).toBe('running');
    expect(pve.writes.map((w) => Object.keys(w.req.set).length > 0 || w.req.delete.length > 0)).toEqual([true, true, true]);
    expect(store.filter((e) => e.t === 'verify')).toMatchObject([{ ok: true }]);
    const back = await rollback(pve, store);
    expect(resultOf(back, 201).result, resultOf(back, 201).reason).toBe('restored');
    expect(pve.text(201)).toBe(before);
  });

  it('without an agent answer it pauses; --confirm-staged resumes after the check', async () => {
    const pve = new FakePve([fakeVm(201, WIN.replace('agent: 1\n', ''))]);
    const plan = await planFor(pve, staged);
    const store: JournalEntry[] = [];
    const first = await apply(pve, plan, store);
    expect(resultOf(first, 201)).toMatchObject({ result: 'awaiting-confirmation', reason: expect.stringContaining('--confirm-staged 201') });
    expect(pve.vms.get(201)!.current.scsi0).toBeUndefined();
    expect(pve.vms.get(201)!.current.sata0).toBe('local-lvm:vm-201-disk-0,discard=on,size=64G');
    const second = await apply(pve, plan, store, { confirmStaged: [201] });
    expect(resultOf(second, 201).result).toBe('migrated');
    expect(pve.writes).toHaveLength(3);
  });

  it('a 403 on the guest check pauses at once, naming the privilege; --confirm-staged resumes', async () => {
    const pve = new FakePve([fakeVm(201, WIN, { guestDisk: 'forbidden' })]);
    let asked = 0;
    const see = pve.guestSeesDisk.bind(pve);
    pve.guestSeesDisk = (...a: Parameters<typeof see>) => (asked++, see(...a));
    const plan = await planFor(pve, staged);
    const store: JournalEntry[] = [];
    const first = await apply(pve, plan, store, { agentWaitMs: 60_000 });
    expect(resultOf(first, 201)).toMatchObject({
      result: 'awaiting-confirmation',
      reason: expect.stringContaining('agent/exec needs VM.GuestAgent.Unrestricted on /vms/201'),
    });
    // Asked once: a refused privilege does not change by waiting out agentWaitMs.
    expect(asked).toBe(1);
    expect(pve.writes).toHaveLength(1);
    const second = await apply(pve, plan, store, { confirmStaged: [201] });
    expect(resultOf(second, 201).result).toBe('migrated');
  });

  it('a guest that does not see the temp disk stops the path before the boot disk moves', async () => {
    const pve = new FakePve([fakeVm(201, WIN, { guestDisk: 'no' })]);
    const summary = await apply(pve, await planFor(pve, staged), []);
    expect(resultOf(summary, 201)).toMatchObject({ result: 'failed', reason: expect.stringContaining('vioscsi') });
    expect(pve.writes).toHaveLength(1);
  });
});

describe('plan file', () => {
  it('refuses other versions and incomplete plans with the file named', () => {
    expect(() => validatePlan({ version: 2, vms: [] }, 'p.json')).toThrow(/p\.json: plan version 2/);
    expect(() => validatePlan({ version: 1, aio: 'threads', options: {}, vms: [{ vmid: 1 }] }, 'p.json')).toThrow(
      /^p\.json: not a valid plan: vms\[0\]: must have required property 'node'/,
    );
  });

  it('compareToSaved names what differs', () => {
    const base = { key: 'scsi0', before: 'a', after: 'b', step: 1 };
    const saved = { changes: [base] } as never;
    expect(compareToSaved(saved, { changes: [base] } as never)).toEqual({ ok: true });
    expect(compareToSaved(saved, { changes: [{ ...base, before: 'x' }] } as never)).toEqual({ ok: false, reason: "scsi0 is now 'x' (plan: 'a')" });
    expect(compareToSaved(saved, { changes: [{ ...base, key: 'scsi1' }] } as never)).toMatchObject({ ok: false });
  });
});
