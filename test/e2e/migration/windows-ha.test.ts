// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The Windows staged path and the HA path on the simulator. The guest check ("do you see the disk
 * with serial DPSTAGE<vmid>?") goes through the simulator's guest agent: its Windows guest answers
 * `Get-Disk` from the disks the VM runs with.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFileSpec } from '../../../api-shim/simulator/index.js';
import { makePlan } from '../../../src/migration/online.js';
import { rollbackFromJournal } from '../../../src/cli/commands/rollback.js';
import { collectFleet } from '../../../src/audit/fleet.js';
import { applyPlan } from '../../../src/migration/apply.js';
import { createApiTarget } from '../../../src/migration/api-target.js';
import type { RunSummary } from '../../../src/migration/runner.js';
import type { MigrationPlan } from '../../../src/migration/types.js';
import { JsonlJournal, readJournal } from '../../../src/node/journal.js';
import { digestOf } from '../../../src/pve/index.js';
import { FAST, type SimEnv, conf, mainValues, onlineAudit, otherOptions, simWith } from './helpers.js';
import { LINUX_LSI } from './fleet.js';

const WIN = (vmid: number, hw: string | null): string =>
  conf(
    'agent: 1',
    'boot: order=scsi0;ide2;net0',
    'cores: 4',
    'ide2: local:iso/virtio-win-0.1.262.iso,media=cdrom,size=708140K',
    'machine: pc-q35-8.1',
    'memory: 8192',
    `name: win-${vmid}`,
    'net0: e1000=BC:24:11:00:04:01,bridge=vmbr0',
    'ostype: win10',
    `scsi0: local-lvm:vm-${vmid}-disk-0,cache=writeback,discard=on,size=80G`,
    `scsi1: local-lvm:vm-${vmid}-disk-1,backup=0,size=200G`,
    ...(hw ? [`scsihw: ${hw}`] : []),
  );

const FLEET: ConfigFileSpec[] = [
  { vmid: 401, text: WIN(401, null), status: 'running', guest: { agentRunning: true } },
  { vmid: 402, text: WIN(402, 'virtio-scsi-pci'), status: 'stopped' },
  { vmid: 403, text: WIN(403, 'megasas'), status: 'running', ha: { state: 'started' }, guest: { agentRunning: true } },
  { vmid: 404, text: LINUX_LSI(404), status: 'running', ha: { state: 'started' } },
];

describe('Windows staged path and HA on the simulator', () => {
  let env: SimEnv;
  let plan: MigrationPlan;
  let summary: RunSummary;
  let before: Map<number, string>;
  const journalPath = (): string => join(env.dir, 'journal.jsonl');

  beforeAll(async () => {
    env = await simWith(FLEET);
    before = new Map(FLEET.map((f) => [f.vmid, env.text(f.vmid)]));
    plan = (await makePlan(env.client, {}, { aio: 'threads', windowsStaged: true }, { pve: env.sim.url })).plan;
    const { env: analysisEnv } = await collectFleet(env.client, {});
    const api = createApiTarget(env.client, { env: analysisEnv, pollMs: 10 });
    const journal = JsonlJournal.open(journalPath(), 'apply-windows');
    summary = await applyPlan(plan, api, journal, [], { ...FAST, reboot: 'now', concurrency: 4 });
    await journal.close();
  });
  afterAll(() => env?.close());

  it('plans the staged path for Windows boot disks leaving lsi/megasas, and one write for virtio-scsi-pci', () => {
    const path = (vmid: number) => plan.vms.find((v) => v.vmid === vmid)!.path;
    expect([path(401), path(402), path(403), path(404)]).toEqual(['staged', 'direct', 'staged', 'direct']);
    expect(plan.vms.find((v) => v.vmid === 403)!.warnings.map((w) => w.code)).toContain('HA_MANAGED');
  });

  it('migrates every VM', () => {
    for (const f of FLEET) {
      const r = summary.results.find((x) => x.vmid === f.vmid)!;
      expect(r.result, `${f.vmid}: ${r.reason}`).toBe('migrated');
    }
  });

  it('runs each staged step as its own journalled action: temp disk, start, guest check, boot move, temp removal', () => {
    const { entries } = readJournal(journalPath());
    const steps = entries.flatMap((e) =>
      (e.t === 'write' || e.t === 'power' || e.t === 'verify') && e.vmid === 401 ? [e.t === 'power' ? `${e.action}@${e.step}` : `${e.t}@${e.step}`] : [],
    );
    expect(steps).toEqual(['shutdown@1', 'write@2', 'start@3', 'verify@4', 'shutdown@5', 'write@6', 'write@7', 'start@8']);
    const temp = entries.find((e) => e.t === 'write' && e.vmid === 401 && e.step === 2) as { set: Record<string, string>; delete: string[] };
    expect(temp.set.scsihw).toBe('virtio-scsi-single');
    expect(temp.delete).toEqual(['scsi0']);
    expect(Object.values(temp.set).some((v) => v === 'local-lvm:1,backup=0,iothread=1,replicate=0,serial=DPSTAGE401')).toBe(true);
  });

  it('ends with the boot disk on VirtIO SCSI with iothread, the temp disk gone, other options unchanged', async () => {
    const audit = await onlineAudit(env.client, [401, 402, 403, 404]);
    for (const vmid of [401, 402, 403, 404]) {
      const now = mainValues(env.text(vmid));
      const was = mainValues(before.get(vmid)!);
      expect(now.scsihw).toBe('virtio-scsi-single');
      expect(now.boot).toBe(was.boot);
      expect(Object.keys(now).filter((k) => /^(sata\d+|unused\d+|scsi([2-9]|\d\d))$/.test(k)), `VM ${vmid}`).toEqual([]);
      for (const k of ['scsi0', 'scsi1']) expect(otherOptions(k, now[k]!), `VM ${vmid} ${k}`).toEqual(otherOptions(k, was[k]!));
      const disks = audit.get(vmid)!.disks.filter((d) => d.bus === 'scsi' && d.media === 'disk');
      for (const d of disks) expect([d.key, d.iothread.effective, d.aio.effective]).toEqual([d.key, true, 'threads']);
    }
    expect(env.sim.state.vms.get(401)!.status).toBe('running');
    expect(env.sim.state.vms.get(402)!.status).toBe('stopped');
  });

  it('restarts HA-managed VMs through HA and waits until HA reports them started', () => {
    const tasks = env.sim.state.tasks.all();
    for (const vmid of [403, 404]) {
      expect(tasks.some((t) => t.type === 'hastart' && t.id === String(vmid)), `VM ${vmid}`).toBe(true);
      expect(env.sim.state.vms.get(vmid)!.ha!.state).toBe('started');
      expect(env.sim.state.vms.get(vmid)!.status).toBe('running');
    }
    const { entries } = readJournal(journalPath());
    expect(entries.filter((e) => e.t === 'power' && e.vmid === 404).map((e) => e.t === 'power' && [e.action, e.ha])).toEqual([['reboot', true]]);
  });

  it('rollback --reboot now brings every config file back byte-for-byte', async () => {
    const back = await rollbackFromJournal(env.client, { journalPath: journalPath(), reboot: 'now', concurrency: 4, pve: env.sim.url, engine: FAST });
    expect(back.counts, JSON.stringify(back.results)).toEqual({ restored: 4 });
    for (const f of FLEET) expect(digestOf(env.text(f.vmid)), `VM ${f.vmid}`).toBe(digestOf(before.get(f.vmid)!));
  });
});
