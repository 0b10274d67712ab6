// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A mixed fleet planned, applied with `--reboot now` and rolled back on the simulator; the result
 * is checked through the online audit, the way a user would check it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFromPlan } from '../../../src/cli/commands/apply.js';
import { makePlan } from '../../../src/migration/online.js';
import { rollbackFromJournal } from '../../../src/cli/commands/rollback.js';
import type { RunSummary } from '../../../src/migration/runner.js';
import type { MigrationPlan } from '../../../src/migration/types.js';
import { digestOf } from '../../../src/pve/index.js';
import { readJournal } from '../../../src/node/journal.js';
import { MIXED } from './fleet.js';
import { FAST, type SimEnv, mainValues, onlineAudit, otherOptions, simWith } from './helpers.js';

describe('mixed fleet: plan, apply --reboot now, online audit, rollback', () => {
  let env: SimEnv;
  let before: Map<number, string>;
  let plan: MigrationPlan;
  let applied: RunSummary;
  let journalPath: string;

  beforeAll(async () => {
    env = await simWith(MIXED);
    before = new Map(MIXED.map((v) => [v.vmid, env.text(v.vmid)]));
    plan = (await makePlan(env.client, {}, { aio: 'threads' }, { pve: env.sim.url })).plan;
    journalPath = join(env.dir, 'journal.jsonl');
    applied = await applyFromPlan(env.client, {
      plan: JSON.parse(JSON.stringify(plan)) as MigrationPlan,
      planFile: 'plan.json',
      planHash: 'e2e',
      journalPath,
      reboot: 'now',
      concurrency: 4,
      pve: env.sim.url,
      engine: FAST,
    });
  });
  afterAll(() => env?.close());

  it('reports every VM with the outcome and reason its gates give', () => {
    for (const vm of MIXED) {
      const r = applied.results.find((x) => x.vmid === vm.vmid)!;
      expect(r.result, `VM ${vm.vmid}: ${r.reason}`).toBe(vm.expect);
      if (vm.gate) expect(r.reason).toContain(vm.gate);
    }
    expect(applied.results.find((r) => r.vmid === 110)!.reason).toBe('already in the target state');
    expect(applied.results.find((r) => r.vmid === 111)!.reason).toMatch(/keeps running its old settings/);
  });

  it('every migrated VM runs virtio-scsi-single with iothread and aio=threads on every scsi/virtio disk (online audit)', async () => {
    const migrated = MIXED.filter((v) => v.expect === 'migrated').map((v) => v.vmid);
    const audit = await onlineAudit(env.client, migrated);
    for (const vmid of migrated) {
      const report = audit.get(vmid)!;
      const was = mainValues(before.get(vmid)!);
      // The controller changes where a scsiN drive hangs on it; virtio-blk-only VMs keep theirs.
      const hasScsi = Object.keys(was).some((k) => /^scsi\d+$/.test(k));
      expect(report.scsihw.configured, `VM ${vmid}`).toBe(hasScsi ? 'virtio-scsi-single' : (was.scsihw ?? null));
      expect(report.pendingDataplaneChanges, `VM ${vmid}`).toBe(false);
      const disks = report.disks.filter((d) => (d.bus === 'scsi' || d.bus === 'virtio') && d.media === 'disk' && d.volume !== 'none');
      expect(disks.length, `VM ${vmid}`).toBeGreaterThan(0);
      for (const d of disks) {
        expect(d.iothread.effective, `VM ${vmid} ${d.key}`).toBe(true);
        // librbd disks get no aio at all under -blockdev (docs/how-qemu-server-decides.md#aio).
        expect(d.aio.effective === 'threads' || (d.aio.effective === null && d.storageType === 'rbd'), `VM ${vmid} ${d.key}: ${d.aio.effective}`).toBe(true);
        expect(d.pending).toBeUndefined();
      }
      expect(env.sim.state.vms.get(vmid)!.status).toBe(MIXED.find((v) => v.vmid === vmid)!.status);
    }
  });

  it('keeps every other drive option and every other key unchanged', () => {
    for (const vm of MIXED.filter((v) => v.expect === 'migrated')) {
      const was = mainValues(before.get(vm.vmid)!);
      const now = mainValues(env.text(vm.vmid));
      const hasScsi = Object.keys(was).some((k) => /^scsi\d+$/.test(k));
      expect(Object.keys(now).sort(), `VM ${vm.vmid}`).toEqual([...new Set([...Object.keys(was), ...(hasScsi ? ['scsihw'] : [])])].sort());
      for (const [k, v] of Object.entries(was)) {
        if (/^(scsi|virtio)\d+$/.test(k)) {
          expect(otherOptions(k, now[k]!), `VM ${vm.vmid} ${k}`).toEqual(otherOptions(k, v));
        } else if (k !== 'scsihw') {
          expect(now[k], `VM ${vm.vmid} ${k}`).toBe(v);
        }
      }
    }
  });

  it('leaves every gated VM untouched', () => {
    for (const vm of MIXED.filter((v) => v.expect === 'skipped')) {
      expect(env.text(vm.vmid), `VM ${vm.vmid}`).toBe(before.get(vm.vmid));
    }
    // The guest that ignored ACPI keeps running with the change pending.
    expect(env.sim.state.vms.get(111)!.status).toBe('running');
    expect(env.text(111)).toContain('[PENDING]');
  });

  it('journals a baseline, intent and outcome for every write', () => {
    const { entries, damaged } = readJournal(journalPath);
    expect(damaged).toEqual([]);
    const wrote = new Set(entries.filter((e) => e.t === 'write').map((e) => (e as { vmid: number }).vmid));
    expect([...wrote].sort()).toEqual([101, 102, 104, 109, 111, 112]);
    for (const vmid of wrote) {
      const base = entries.find((e) => e.t === 'baseline' && e.vmid === vmid) as { digest: string } | undefined;
      expect(base?.digest).toBe(digestOf(before.get(vmid)!));
    }
    expect(entries.filter((e) => e.t === 'write-done').every((e) => (e as { ok: boolean }).ok)).toBe(true);
  });

  it('a second apply of the same plan changes nothing', async () => {
    const texts = new Map(MIXED.map((v) => [v.vmid, env.text(v.vmid)]));
    const again = await applyFromPlan(env.client, {
      plan,
      planFile: 'plan.json',
      planHash: 'e2e',
      journalPath,
      reboot: 'never',
      concurrency: 4,
      pve: env.sim.url,
      engine: FAST,
    });
    for (const vmid of [101, 102, 104, 109, 112]) expect(again.results.find((r) => r.vmid === vmid)!.reason).toBe('done (earlier run)');
    for (const [vmid, text] of texts) if (vmid !== 111) expect(env.text(vmid)).toBe(text);
  });

  it('rollback --reboot now restores every config file byte-for-byte (same digest)', async () => {
    const summary = await rollbackFromJournal(env.client, {
      journalPath,
      reboot: 'now',
      concurrency: 4,
      pve: env.sim.url,
      engine: FAST,
    });
    expect(summary.counts).toEqual({ restored: 6 });
    for (const vm of MIXED) {
      expect(env.text(vm.vmid), `VM ${vm.vmid}`).toBe(before.get(vm.vmid));
    }
    for (const r of summary.results) expect(r.reason).toContain('byte-identical');
  });
});
