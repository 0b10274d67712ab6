// SPDX-License-Identifier: AGPL-3.0-or-later
// Reboot waves of a job: reboots through PVE at most N per node at a time, HA-managed VMs
// included, the new settings verified running; the first failure stops the wave unless told to
// go on; a VM whose change is already written gets the reboot, not a second write.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigFileSpec, type RunningSimulator, fleetFromConfigs, startSimulator } from '../../api-shim/simulator/index.js';
import { digestOf } from '../../src/pve/index.js';
import { LINUX_LSI } from '../e2e/migration/fleet.js';
import { startShim } from './helpers.js';
import { makePlan, startJob, vmsOf, waitForJob } from './jobs-helpers.js';

const ENGINE = { pollMs: 10, powerTimeoutMs: 20_000, restartGraceMs: 2_000, agentWaitMs: 2_000 };
/** A guest that ignores the power button and has no agent: PVE's reboot times out. */
const STUCK = { ignoresAcpi: true, agentRunning: false, shutdownSec: 5 };

const FLEET: ConfigFileSpec[] = [
  ...[600, 601, 602, 603].map((vmid) => ({ vmid, text: LINUX_LSI(vmid), node: 'pve1', status: 'running' as const })),
  ...[604, 605].map((vmid) => ({ vmid, text: LINUX_LSI(vmid), node: 'pve2', status: 'running' as const, ...(vmid === 604 ? { ha: { state: 'started' as const } } : {}) })),
  { vmid: 610, text: LINUX_LSI(610), node: 'pve3', status: 'running', guest: STUCK },
  ...[611, 612].map((vmid) => ({ vmid, text: LINUX_LSI(vmid), node: 'pve3', status: 'running' as const })),
];

type Entry = { t: string; ts: string; vmid: number; node?: string; action?: string };

describe('reboot waves', () => {
  let sim: RunningSimulator;
  let shim: Awaited<ReturnType<typeof startShim>>;
  beforeAll(async () => {
    sim = await startSimulator({ fleet: fleetFromConfigs(FLEET), http: true, authDelayMs: 0, timeScale: 0.001, seed: 2 });
    shim = await startShim({ upstream: sim.url, token: sim.token, stateDir: mkdtempSync(join(tmpdir(), 'dp-jobs-reboot-')), jobEngine: ENGINE });
  });
  afterAll(async () => {
    await shim.close();
    await sim.state.settle();
    await sim.close();
  });

  it('reboots at most one VM per node at a time (HA-managed included) and verifies the new settings run', async () => {
    const plan = await makePlan(shim.url, vmsOf(sim, [600, 601, 602, 603, 604, 605]));
    const job = await waitForJob(shim.url, (await startJob(shim.url, { planId: plan.id, reboot: 'now', concurrency: 6 })).id);
    expect(job.vms.map((v) => [v.vmid, v.state])).toEqual([600, 601, 602, 603, 604, 605].map((id) => [id, 'verified']));
    for (const v of job.vms) {
      const text = sim.state.vms.get(v.vmid)!.text;
      expect(text).toMatch(/^scsihw: virtio-scsi-single$/m);
      expect(text).not.toContain('[PENDING]');
      expect(v.digestAfter).toBe(digestOf(text));
    }
    const entries = readFileSync(job.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Entry);
    const spans = entries
      .filter((e) => e.t === 'power')
      .map((p) => ({ node: p.node!, vmid: p.vmid, from: Date.parse(p.ts), to: Date.parse(entries.find((d) => d.t === 'power-done' && d.vmid === p.vmid)!.ts) }));
    expect(spans).toHaveLength(6);
    for (const node of ['pve1', 'pve2']) {
      const mine = spans.filter((s) => s.node === node).sort((a, b) => a.from - b.from);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.from, `${node}: VM ${mine[i]!.vmid} rebooted while VM ${mine[i - 1]!.vmid} was`).toBeGreaterThanOrEqual(mine[i - 1]!.to);
    }
  });

  it('the first failure stops the wave; continueOnFailure goes on; a written VM gets the reboot, not a second write', async () => {
    const vms = vmsOf(sim, [610, 611, 612]);
    const plan = await makePlan(shim.url, vms);
    const before = new Map(vms.map((v) => [v.vmid, digestOf(sim.state.vms.get(v.vmid)!.text)]));
    const job = await waitForJob(shim.url, (await startJob(shim.url, { planId: plan.id, reboot: 'now', concurrency: 1 })).id);
    const by = new Map(job.vms.map((v) => [v.vmid, v]));
    expect(by.get(610)!.state).toBe('failed');
    expect(by.get(610)!.reason).toMatch(/reboot/);
    expect(job.stopReason).toMatch(/^the wave stopped at the first failure \(VM 610: /);
    for (const vmid of [611, 612]) {
      expect(by.get(vmid)!.state).toBe('skipped');
      expect(by.get(vmid)!.reason).toMatch(/^not started: the wave stopped at the first failure/);
      expect(digestOf(sim.state.vms.get(vmid)!.text)).toBe(before.get(vmid));
    }

    // Preview again: 610's change is written and pending, so the job reboots it without writing.
    const again = await makePlan(shim.url, vms);
    expect(again.alreadyPending).toEqual([610]);
    const second = await waitForJob(shim.url, (await startJob(shim.url, { planId: again.id, reboot: 'now', concurrency: 1, continueOnFailure: true })).id);
    const by2 = new Map(second.vms.map((v) => [v.vmid, v]));
    expect(by2.get(610)!.state).toBe('failed');
    expect(by2.get(611)!.state).toBe('verified');
    expect(by2.get(612)!.state).toBe('verified');
    expect(second.stopReason).toBeNull();
    const writes = readFileSync(second.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Entry).filter((e) => e.t === 'write');
    expect(writes.map((w) => w.vmid).sort()).toEqual([611, 612]);
  });
});
