// SPDX-License-Identifier: AGPL-3.0-or-later
// A 500-VM job (reboot never) against the simulator: zero lost updates. Every planned change is
// in PVE afterwards, every write went out with the digest of the preview, every digest the job
// reports is PVE's, VMs edited after the preview keep their edit, untouched VMs are unchanged.
import http from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { PveClient } from '../../src/api/client.js';
import { collectFleet } from '../../src/audit/fleet.js';
import { sameConfigValue } from '../../src/migration/config-keys.js';
import { digestOf } from '../../src/pve/index.js';
import { startShim } from './helpers.js';
import { makePlan, startJob, vmsOf, waitForJob } from './jobs-helpers.js';

describe('a 500-VM job', () => {
  let sim: RunningSimulator;
  let shim: Awaited<ReturnType<typeof startShim>>;
  beforeAll(async () => {
    sim = await startSimulator({ vms: 500, seed: 5, http: true, authDelayMs: 0, timeScale: 0.001 });
    shim = await startShim({ upstream: sim.url, token: sim.token, stateDir: mkdtempSync(join(tmpdir(), 'dp-jobs-500-')), jobEngine: { pollMs: 10 } });
  });
  afterAll(async () => {
    await shim.close();
    await sim.state.settle();
    await sim.close();
  });

  it('writes every planned change with the preview digest and loses none', async () => {
    const plan = await makePlan(shim.url, vmsOf(sim));
    expect(plan.plan.vms).toHaveLength(500);
    const toWrite = plan.plan.vms.filter((v) => v.eligible && v.changes.some((c) => !c.alreadyPending));
    expect(toWrite.length).toBeGreaterThan(200);
    // Edited by someone else between the preview and the job.
    const edited = toWrite.slice(0, 5).map((v) => v.vmid);
    for (const vmid of edited) sim.state.editConfig(vmid, (t) => t.replace(/^(name: .*)$/m, '$1\ndescription: edited after the preview'));
    const before = new Map(plan.plan.vms.map((v) => [v.vmid, digestOf(sim.state.vms.get(v.vmid)!.text)]));

    const job = await waitForJob(shim.url, (await startJob(shim.url, { planId: plan.id, reboot: 'never', concurrency: 8 })).id, 300_000);
    expect(job.status).toBe('finished');
    expect(job.vms).toHaveLength(500);
    expect(job.counts.failed).toBe(0);
    expect(job.counts.queued + job.counts.writing + job.counts.rebooting).toBe(0);

    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, concurrency: 8, httpAgent: new http.Agent({ keepAlive: true, maxSockets: 8 }) });
    const now = new Map((await collectFleet(client)).inputs.map((i) => [i.vmid, i]));
    const next = (vmid: number, key: string): string | null => {
      const i = now.get(vmid)!;
      if (key in i.pending) return i.pending[key]!;
      if (i.deletes.some((d) => d.key === key)) return null;
      return i.current[key] ?? null;
    };
    const writes = new Map<number, string[]>();
    for (const line of readFileSync(job.journal, 'utf8').trim().split('\n')) {
      const e = JSON.parse(line) as { t: string; vmid: number; digest: string };
      if (e.t === 'write') writes.set(e.vmid, [...(writes.get(e.vmid) ?? []), e.digest]);
    }

    let checked = 0;
    for (const v of plan.plan.vms) {
      const vm = job.vms.find((x) => x.vmid === v.vmid)!;
      const digestNow = digestOf(sim.state.vms.get(v.vmid)!.text);
      if (edited.includes(v.vmid)) {
        expect(vm.state).toBe('skipped');
        expect(vm.reason).toMatch(/^changed since the preview/);
        expect(sim.state.vms.get(v.vmid)!.text).toContain('description: edited after the preview');
        expect(digestNow).toBe(before.get(v.vmid));
        expect(writes.has(v.vmid)).toBe(false);
        continue;
      }
      if (toWrite.includes(v)) {
        // One write, with the digest the preview read; PVE's digest after is the one reported.
        expect(writes.get(v.vmid), `VM ${v.vmid}`).toEqual([v.digest]);
        expect(['written', 'verified']).toContain(vm.state);
        expect(vm.digestBefore).toBe(v.digest);
        expect(vm.digestAfter).toBe(digestNow);
        // PVE prints drive options in its own order: compare values, not strings.
        for (const c of v.changes) expect(sameConfigValue(c.key, next(v.vmid, c.key), c.after), `VM ${v.vmid} ${c.key}: ${next(v.vmid, c.key)}`).toBe(true);
        checked++;
      } else {
        expect(writes.has(v.vmid)).toBe(false);
        expect(digestNow).toBe(before.get(v.vmid));
      }
    }
    expect(checked).toBe(toWrite.length - edited.length);
  }, 300_000);
});
