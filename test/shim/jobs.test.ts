// SPDX-License-Identifier: AGPL-3.0-or-later
// Jobs in the shim against the simulator: the plan applied is the plan previewed (digests from
// the preview, a VM edited since is skipped as "changed since the preview"), per-VM states,
// cancel, one job per VM, the SSE stream, the audit log, rollback, read-only.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobList, JobView, PlanAnswer, VmJobView } from '../../api-shim/contracts/jobs.js';
import type { AuditLine } from '../../api-shim/jobs/audit-log.js';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { digestOf } from '../../src/pve/index.js';
import { startShim } from './helpers.js';
import { api, makePlan, readEvents, startJob, vmsOf, waitForJob } from './jobs-helpers.js';

const ENGINE = { pollMs: 10, powerTimeoutMs: 20_000, restartGraceMs: 2_000, agentWaitMs: 2_000 };

describe('jobs API', () => {
  let sim: RunningSimulator;
  let shim: Awaited<ReturnType<typeof startShim>>;
  let ro: Awaited<ReturnType<typeof startShim>>;
  let stateDir: string;
  const digest = (vmid: number) => digestOf(sim.state.vms.get(vmid)!.text);

  beforeAll(async () => {
    sim = await startSimulator({ vms: 40, seed: 11, http: true, authDelayMs: 0, timeScale: 0.001 });
    stateDir = mkdtempSync(join(tmpdir(), 'dp-jobs-'));
    shim = await startShim({ upstream: sim.url, token: sim.token, stateDir, jobEngine: ENGINE });
    ro = await startShim({ upstream: sim.url, token: sim.token, stateDir: mkdtempSync(join(tmpdir(), 'dp-jobs-ro-')), readOnly: true });
  });
  afterAll(async () => {
    await shim.close();
    await ro.close();
    await sim.state.settle();
    await sim.close();
  });

  it('applies the previewed plan: each write carries the preview digest; the audit log names who, VM, node and digests', async () => {
    const plan = await makePlan(shim.url, vmsOf(sim, [100, 101, 102, 103, 104, 105]));
    expect(plan.id).toMatch(/^p-/);
    expect(statSync(join(stateDir, 'plans', `${plan.id}.json`)).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'plans')).mode & 0o777).toBe(0o700);
    const eligible = plan.plan.vms.filter((v) => v.eligible && v.changes.length > 0);
    expect(eligible.length).toBeGreaterThan(0);
    for (const v of plan.plan.vms) expect(v.digest).toBe(digest(v.vmid));

    const started = await startJob(shim.url, { planId: plan.id, reboot: 'never' });
    const job = await waitForJob(shim.url, started.id);
    expect(job.status).toBe('finished');
    expect(job.counts.writing + job.counts.queued + job.counts.rebooting).toBe(0);
    const journal = readFileSync(job.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; vmid: number; digest: string });
    expect(statSync(job.journal).mode & 0o777).toBe(0o600);
    for (const v of eligible) {
      const vm = job.vms.find((x) => x.vmid === v.vmid)!;
      expect(['written', 'verified']).toContain(vm.state);
      // The write went out with the digest of the preview, and PVE's digest after is what the job reports.
      expect(journal.filter((e) => e.t === 'write' && e.vmid === v.vmid).map((e) => e.digest)).toEqual([v.digest]);
      expect(vm.digestBefore).toBe(v.digest);
      expect(vm.digestAfter).toBe(digest(v.vmid));
    }

    const audit = readFileSync(join(stateDir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine);
    expect(statSync(join(stateDir, 'audit.jsonl')).mode & 0o777).toBe(0o600);
    const mine = audit.filter((l) => l.job === job.id);
    for (const v of eligible) {
      const lines = mine.filter((l) => l.vmid === v.vmid);
      expect(lines.map((l) => l.phase)).toEqual(['sent', 'done']);
      expect(lines[1]).toMatchObject({ who: sim.token.split('=')[0], node: v.node, action: 'config', purpose: 'apply', digestBefore: v.digest, digestAfter: digest(v.vmid), outcome: 'ok' });
      expect(Date.parse(lines[1]!.ts)).toBeGreaterThan(0);
    }
    // Blocked and nothing-to-do VMs are reported, never written.
    for (const v of plan.plan.vms.filter((x) => !x.eligible)) {
      expect(job.vms.find((x) => x.vmid === v.vmid)!.state).toBe('skipped');
      expect(mine.some((l) => l.vmid === v.vmid)).toBe(false);
    }

    // A second job on the same plan: the VMs are already written (pending), nothing is written again.
    const again = await waitForJob(shim.url, (await startJob(shim.url, { planId: plan.id, reboot: 'never' })).id);
    const running = eligible.filter((v) => v.status === 'running');
    for (const v of running) expect(again.vms.find((x) => x.vmid === v.vmid)!.state).toBe('written');
    expect(readFileSync(again.journal, 'utf8')).not.toContain('"t":"write"');
  });

  it('a VM edited after the preview is skipped as "changed since the preview", never re-planned; its edit stays', async () => {
    const plan = await makePlan(shim.url, vmsOf(sim, [110, 111, 112, 113]));
    const eligible = plan.plan.vms.filter((v) => v.eligible && v.changes.length > 0 && !v.changes.every((c) => c.alreadyPending));
    expect(eligible.length).toBeGreaterThanOrEqual(2);
    const edited = eligible[0]!;
    sim.state.editConfig(edited.vmid, (text) => text.replace(/^(name: .*)$/m, '$1\ndescription: edited by someone else'));
    const after = sim.state.vms.get(edited.vmid)!.text;
    const job = await waitForJob(shim.url, (await startJob(shim.url, { planId: plan.id, reboot: 'never' })).id);
    const vm = job.vms.find((v) => v.vmid === edited.vmid)!;
    expect(vm.state).toBe('skipped');
    expect(vm.reason).toMatch(/^changed since the preview: /);
    expect(sim.state.vms.get(edited.vmid)!.text).toBe(after);
    // The others went on.
    expect(job.vms.find((v) => v.vmid === eligible[1]!.vmid)!.state).toMatch(/written|verified/);
  });

  it('one job per VM: a second job touching a VM of a running job is refused 409 naming the VM and the job', async () => {
    const vms = vmsOf(sim, [120, 121, 122, 123, 124, 125]);
    const plan = await makePlan(shim.url, vms);
    const busy = plan.plan.vms.filter((v) => v.eligible).map((v) => v.vmid);
    expect(busy.length).toBeGreaterThan(0);
    // Slow the writes down so the first job is still running.
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/*/config', method: 'POST', kind: 'latency', latencyMs: 300 }] });
    try {
      const first = await startJob(shim.url, { planId: plan.id, reboot: 'never', concurrency: 1 });
      const second = await api<JobView>(shim.url, 'POST', '/dp/jobs', { planId: plan.id, reboot: 'never' });
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('DP_JOB_CONFLICT');
      expect(second.body.message).toContain(`VM ${busy[0]} is in running job ${first.id}`);
      await waitForJob(shim.url, first.id);
      // Free again once it ended.
      const third = await api<JobView>(shim.url, 'POST', '/dp/jobs', { planId: plan.id, reboot: 'never' });
      expect(third.status).toBe(200);
      await waitForJob(shim.url, third.body.id);
    } finally {
      sim.state.setFaults(undefined);
    }
  });

  it('cancel finishes the VMs in flight and starts no other; the SSE stream gives snapshot, transitions in order, summary', async () => {
    const vms = vmsOf(sim).filter((v) => v.vmid >= 126);
    const plan = await makePlan(shim.url, vms);
    const eligible = plan.plan.vms.filter((v) => v.eligible && !v.changes.every((c) => c.alreadyPending));
    expect(eligible.length).toBeGreaterThan(6);
    const before = new Map(plan.plan.vms.map((v) => [v.vmid, digest(v.vmid)]));
    // Writes take 150 ms, from the third on 600 ms: the cancel sent once two VMs are written must
    // reach the shim while the next two are in flight, and a loaded machine took a good part of 150.
    sim.state.setFaults({
      rules: [
        { path: '/nodes/*/qemu/*/config', method: 'POST', kind: 'latency', latencyMs: 150 },
        { path: '/nodes/*/qemu/*/config', method: 'POST', kind: 'latency', latencyMs: 450, skip: 2 },
      ],
    });
    try {
      const job = await startJob(shim.url, { planId: plan.id, reboot: 'never', concurrency: 2 });
      // Cancel once two VMs have their outcome.
      let cancelled = false;
      const events = await readEvents(shim.url, job.id, {
        stop: (evs) => {
          const finals = evs.filter((e) => e.type === 'vm' && ['written', 'verified'].includes((e.data.vm as VmJobView).state));
          if (finals.length >= 2 && !cancelled) {
            cancelled = true;
            void api(shim.url, 'POST', `/dp/jobs/${job.id}/cancel`);
          }
          return false;
        },
      });
      const done = await waitForJob(shim.url, job.id);
      expect(done.status).toBe('cancelled');
      expect(done.cancelRequested).toBe(true);

      // Stream order: snapshot first, summary last, ids increasing, each VM's states only move forward.
      expect(events[0]!.type).toBe('snapshot');
      expect(events.at(-1)!.type).toBe('summary');
      expect(events.filter((e) => e.type === 'snapshot')).toHaveLength(1);
      const seqs = events.map((e) => Number(e.id.split('-')[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      const rank = { queued: 0, writing: 1, written: 2, rebooting: 3, verified: 4, skipped: 4, failed: 4 } as const;
      const last = new Map<number, number>();
      for (const e of events.filter((x) => x.type === 'vm')) {
        const vm = e.data.vm as VmJobView;
        expect(rank[vm.state]).toBeGreaterThanOrEqual(last.get(vm.vmid) ?? 0);
        last.set(vm.vmid, rank[vm.state]);
      }
      expect(events.some((e) => e.type === 'job' && (e.data.job as JobView).cancelRequested)).toBe(true);
      // What the stream ended with is what GET says.
      expect((events.at(-1)!.data.job as JobView).counts).toEqual(done.counts);

      const notStarted = done.vms.filter((v) => v.reason?.startsWith('not started: job cancelled by'));
      expect(notStarted.length).toBeGreaterThan(0);
      for (const v of notStarted) {
        expect(v.state).toBe('skipped');
        expect(digest(v.vmid)).toBe(before.get(v.vmid));
      }
      // At most the VMs in flight at the cancel (concurrency 2) finished after it.
      const written = done.vms.filter((v) => v.state === 'written' || v.state === 'verified');
      expect(written.length).toBeGreaterThanOrEqual(2);
      expect(written.length).toBeLessThanOrEqual(4);
      for (const v of written) expect(digest(v.vmid)).toBe(v.digestAfter);
      expect(done.vms.filter((v) => ['queued', 'writing', 'rebooting'].includes(v.state))).toEqual([]);

      // Reconnect with Last-Event-ID: only what came after it, then the summary.
      const mid = events[Math.floor(events.length / 2)]!;
      const rest = await readEvents(shim.url, job.id, { lastEventId: mid.id });
      expect(rest.map((e) => e.id)).toEqual(events.filter((e) => Number(e.id.split('-')[1]) > Number(mid.id.split('-')[1])).map((e) => e.id));
      // An id of another shim process: a fresh snapshot, then the summary.
      const fresh = await readEvents(shim.url, job.id, { lastEventId: 'zzz-3' });
      expect(fresh.map((e) => e.type)).toEqual(['snapshot', 'summary']);
    } finally {
      sim.state.setFaults(undefined);
    }
  });

  it('lists jobs newest first and rolls back chosen VMs of a job to byte-identical configs', async () => {
    const plan = await makePlan(shim.url, vmsOf(sim, [106, 107, 108, 109]));
    const texts = new Map(plan.plan.vms.map((v) => [v.vmid, sim.state.vms.get(v.vmid)!.text]));
    const job = await waitForJob(shim.url, (await startJob(shim.url, { planId: plan.id, reboot: 'never' })).id);
    const written = job.vms.filter((v) => v.state === 'written' || v.state === 'verified').map((v) => v.vmid);
    expect(written.length).toBeGreaterThanOrEqual(2);
    const list = await api<JobList>(shim.url, 'GET', '/dp/jobs');
    expect(list.body.jobs[0]!.id).toBe(job.id);
    const created = list.body.jobs.map((j) => j.createdAt);
    expect(created).toEqual([...created].sort().reverse());

    const chosen = written.slice(0, 1);
    const rb = await api<JobView>(shim.url, 'POST', `/dp/jobs/${job.id}/rollback`, { vmids: chosen, reboot: 'never' });
    expect(rb.status).toBe(200);
    expect(rb.body.kind).toBe('rollback');
    expect(rb.body.source).toBe(job.id);
    const done = await waitForJob(shim.url, rb.body.id);
    expect(done.vms.map((v) => v.vmid)).toEqual(chosen);
    expect(done.vms[0]).toMatchObject({ state: 'verified', outcome: 'restored' });
    expect(sim.state.vms.get(chosen[0]!)!.text).toBe(texts.get(chosen[0]!));
    // The others keep the change.
    expect(sim.state.vms.get(written[1]!)!.text).not.toBe(texts.get(written[1]!));
    const audit = readFileSync(join(stateDir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain(`"job":"${rb.body.id}"`);
    expect(audit).toMatch(/"purpose":"rollback","phase":"done"/);
  });

  it('a closed tab does not stop a job: the stream is dropped after the snapshot, the job still finishes', async () => {
    const plan = await makePlan(shim.url, vmsOf(sim, [114, 115, 116, 117]));
    const job = await startJob(shim.url, { planId: plan.id, reboot: 'never' });
    const seen = await readEvents(shim.url, job.id, { stop: (evs) => evs.length >= 1 });
    expect(seen[0]!.type).toBe('snapshot');
    const done = await waitForJob(shim.url, job.id);
    expect(done.status).toBe('finished');
    expect(done.counts.queued + done.counts.writing).toBe(0);
  });

  it('refuses bad bodies with 400 naming the field, unknown ids with 404, writes without the CSRF token', async () => {
    const bad: [string, unknown][] = [
      ['/dp/plans', { vms: [{ vmid: '100', node: 'pve1' }] }],
      ['/dp/plans', { vms: [] }],
      ['/dp/plans', { vms: [{ vmid: 100 }] }],
      ['/dp/plans', { vms: [{ vmid: 100, node: 'pve1' }], aio: 'fast' }],
      ['/dp/jobs', { planId: 'p-1', reboot: 'sometimes' }],
      ['/dp/jobs', { planId: 'p-1', reboot: 'never', concurrency: 0 }],
      ['/dp/jobs', { planId: 'p-1', reboot: 'never', rebot: 'now' }],
    ];
    for (const [path, body] of bad) {
      const res = await api(shim.url, 'POST', path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('DP_BAD_REQUEST');
      expect(res.body.message).toMatch(/body/);
    }
    expect((await api(shim.url, 'GET', '/dp/jobs/j-nope')).status).toBe(404);
    expect((await api(shim.url, 'GET', '/dp/plans/p-nope')).status).toBe(404);
    expect((await api(shim.url, 'POST', '/dp/jobs', { planId: 'p-nope', reboot: 'never' })).body.code).toBe('DP_NOT_FOUND');
    const noCsrf = await fetch(`${shim.url}/dp/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ planId: 'p-1', reboot: 'never' }) });
    expect(((await noCsrf.json()) as { code: string }).code).toBe('DP_CSRF');
  });

  it('read-only: a plan is previewed but not saved, every job endpoint that writes is refused', async () => {
    const plan = await makePlan(ro.url, vmsOf(sim, [100, 101]));
    expect(plan.id).toBeNull();
    expect(plan.plan.vms).toHaveLength(2);
    for (const [path, body] of [
      ['/dp/jobs', { planId: 'p-1', reboot: 'never' }],
      ['/dp/jobs/j-1/cancel', undefined],
      ['/dp/jobs/j-1/rollback', { reboot: 'never' }],
      ['/dp/jobs/j-1/resume', undefined],
    ] as const) {
      const res = await api(ro.url, 'POST', path, body);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('DP_AUDIT_READ_ONLY');
    }
    const list = await api<JobList>(ro.url, 'GET', '/dp/jobs');
    expect(list.body.jobs).toEqual([]);
  });

  it('a plan names VMs that moved to another node and leaves them out', async () => {
    const [vm] = vmsOf(sim, [100]);
    const other = sim.state.nodeNames().find((n) => n !== vm!.node)!;
    const plan: PlanAnswer = await makePlan(shim.url, [{ vmid: 100, node: other }, ...vmsOf(sim, [101])]);
    expect(plan.plan.vms.map((v) => v.vmid)).toEqual([101]);
    expect(plan.errors.join('\n')).toContain(`VM 100 is on ${vm!.node} now, not on ${other} as shown`);
  });
});
