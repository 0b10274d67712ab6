// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A reboot whose separate start task fails (QEMU refuses the config): the engine reports the
 * start task's error at once instead of polling the VM until the power timeout.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFromPlan } from '../../../src/cli/commands/apply.js';
import { makePlan } from '../../../src/migration/online.js';
import { rollbackFromJournal } from '../../../src/cli/commands/rollback.js';
import { FAST, type SimEnv, simWith } from './helpers.js';

// aio=native with cache=writeback on LVM: QEMU refuses to start it (docs/how-qemu-server-decides.md#aio); the VM
// runs because it was started before someone edited the cache mode.
const NATIVE_WRITEBACK = [
  'boot: order=scsi0',
  'cores: 2',
  'memory: 2048',
  'name: db-701',
  'ostype: l26',
  'scsi0: local-lvm:vm-701-disk-0,aio=native,cache=writeback,iothread=1,size=32G',
  'scsihw: virtio-scsi-single',
  'smbios1: uuid=7c1f6f0e-0000-4000-8000-000000000701',
  '',
].join('\n');

const LSI_PINNED_TOO_NEW = [
  'boot: order=scsi0',
  'machine: pc-q35-99.0',
  'name: app-703',
  'ostype: l26',
  'scsi0: local-lvm:vm-703-disk-0,size=32G',
  'scsihw: lsi',
  '',
].join('\n');

describe('reboot whose start task fails', () => {
  let env: SimEnv;
  beforeAll(async () => {
    env = await simWith([
      { vmid: 701, text: NATIVE_WRITEBACK, status: 'running', node: 'pve1' },
      { vmid: 702, text: NATIVE_WRITEBACK.replace(/701/g, '702').replace('iothread=1,', '').replace('virtio-scsi-single', 'lsi'), status: 'running', node: 'pve1' },
      // Started on a node with a newer QEMU and moved here: it runs, but this node's QEMU cannot start its pin.
      { vmid: 703, text: LSI_PINNED_TOO_NEW, status: 'running', node: 'pve1' },
    ]);
  });
  afterAll(() => env?.close());

  it('rollback --reboot now restores a config QEMU refuses but does not reboot into it: the VM keeps running, named, failed', async () => {
    const journalPath = join(env.dir, 'no-reboot.jsonl');
    rmSync(journalPath, { force: true });
    const { plan } = await makePlan(env.client, { vmids: [701] }, { aio: 'threads' }, { pve: env.sim.url });
    const applied = await applyFromPlan(env.client, {
      plan, planFile: 'plan.json', planHash: 'h0', journalPath, reboot: 'now', concurrency: 1, pve: env.sim.url, engine: FAST,
    });
    expect(applied.results[0]).toMatchObject({ vmid: 701, result: 'migrated' });
    const rolled = await rollbackFromJournal(env.client, { journalPath, reboot: 'now', concurrency: 1, pve: env.sim.url, engine: FAST });
    expect(rolled.results[0]).toMatchObject({ vmid: 701, result: 'failed' });
    const reason = rolled.results[0]!.reason!;
    expect(reason).toMatch(/^not rebooted: QEMU would refuse the config it starts with \(scsi0 combines aio=native with a cache mode without O_DIRECT \(writeback\)/);
    expect(reason).toContain('--force-reboot 701');
    expect(reason).toContain('the old values stay pending');
    // Still running the migrated config, the original values restored as pending.
    expect(env.sim.state.vms.get(701)!.status).toBe('running');
    expect(env.text(701)).toMatch(/\[PENDING\][^]*aio=native,cache=writeback/);
  }, 40_000);

  it('rollback --force-reboot 701 does reboot, and reports the failed start (not a power timeout), naming QEMU’s error', async () => {
    const engine = { ...FAST, powerTimeoutMs: 60_000 };
    const journalPath = join(env.dir, 'no-reboot.jsonl');
    // Waiting out powerTimeoutMs (60 s) instead would exceed this test's own timeout (40 s).
    const rolled = await rollbackFromJournal(env.client, { journalPath, reboot: 'now', concurrency: 1, pve: env.sim.url, engine, forceReboot: [701] });
    expect(rolled.results[0]).toMatchObject({ vmid: 701, result: 'failed' });
    expect(rolled.results[0]!.reason).toContain('QEMU exited with code 1');
    expect(rolled.results[0]!.reason).toContain('stopped');
  }, 40_000);

  it.each([
    { what: 'apply --aio keep, aio=native with a cache without O_DIRECT', vmid: 702, aio: 'keep' as const, why: /^not rebooted: QEMU would refuse the config it starts with \(scsi0 combines aio=native/ },
    {
      what: 'apply --reboot now, a machine type the node cannot run (in qemu-server’s words)',
      vmid: 703,
      aio: 'threads' as const,
      why: /^not rebooted: QEMU would refuse the config it starts with \(machine: Installed QEMU version '[\d.]+' is too old to run machine type 'pc-q35-99\.0\+pve0'/,
    },
  ])('$what: written, never rebooted into a config QEMU refuses, named, exit status failed', async ({ vmid, aio, why }) => {
    const journalPath = join(env.dir, `apply-${vmid}.jsonl`);
    const { plan } = await makePlan(env.client, { vmids: [vmid] }, { aio }, { pve: env.sim.url });
    expect(plan.vms[0]!.eligible).toBe(true);
    const r = await applyFromPlan(env.client, {
      plan, planFile: 'plan.json', planHash: `h${vmid}`, journalPath, reboot: 'now', concurrency: 1, pve: env.sim.url, engine: FAST,
    });
    expect(r.results[0]).toMatchObject({ vmid, result: 'failed' });
    expect(r.results[0]!.reason).toMatch(why);
    expect(env.sim.state.vms.get(vmid)!.status).toBe('running');
    expect(env.text(vmid)).toMatch(/\[PENDING\]/);
  });

  it('a VM no longer on the node the plan names fails with that reason, nothing written', async () => {
    const journalPath = join(env.dir, 'moved.jsonl');
    const { plan } = await makePlan(env.client, { vmids: [701] }, { aio: 'threads' }, { pve: env.sim.url });
    // As if it was migrated to pve2 after planning (or the plan is of another cluster).
    const moved = { ...plan, vms: plan.vms.map((v) => ({ ...v, node: 'pve2', eligible: true })) };
    const before = env.text(701);
    const r = await applyFromPlan(env.client, {
      plan: moved, planFile: 'plan.json', planHash: 'moved', journalPath, reboot: 'never', concurrency: 1, pve: env.sim.url, engine: FAST,
    });
    expect(r.results[0]).toMatchObject({ vmid: 701, result: 'failed' });
    expect(r.results[0]!.reason).toBe('VM 701 is not on pve2 (migrated to another node since the plan, or the plan is of another cluster); nothing written, plan again');
    expect(env.text(701)).toBe(before);
  });
});
