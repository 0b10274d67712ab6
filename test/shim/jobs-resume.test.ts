// SPDX-License-Identifier: AGPL-3.0-or-later
// A job survives its shim: the shim runs in a child process that is SIGKILLed mid-job (reboot
// now, writes in flight); a new shim on the same state directory resumes the job from its
// journal and finishes it, then a rollback job restores every config byte for byte.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../api-shim/contracts/jobs.js';
import type { AuditLine } from '../../api-shim/jobs/audit-log.js';
import type { JobRecord } from '../../api-shim/jobs/store.js';
import { readJournal } from '../../src/node/journal.js';
import { type ConfigFileSpec, type RunningSimulator, fleetFromConfigs, startSimulator } from '../../api-shim/simulator/index.js';
import { LINUX_LSI } from '../e2e/migration/fleet.js';
import { CSRF, startShim } from './helpers.js';
import { api, makePlan, startJob, vmsOf, waitForJob } from './jobs-helpers.js';

const ENGINE = { pollMs: 10, powerTimeoutMs: 20_000, restartGraceMs: 2_000, agentWaitMs: 2_000 };
const FLEET: ConfigFileSpec[] = Array.from({ length: 8 }, (_, i) => ({
  vmid: 400 + i,
  text: LINUX_LSI(400 + i),
  node: i % 2 === 0 ? 'pve1' : 'pve2',
  status: i % 4 === 3 ? 'stopped' : 'running',
  ...(i === 4 ? { ha: { state: 'started' } } : {}),
}));

/** Starts the shim in a child process; resolves with its URL once it listens. */
function spawnShim(opts: object): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'shim-process.ts'), JSON.stringify(opts)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ url: (JSON.parse(line) as { url: string }).url, child });
    });
    child.on('exit', (code) => reject(new Error(`shim process exited (${code}): ${err}`)));
  });
}

/**
 * The journal's entries as the product reads them: the job appends while this polls, so the last
 * line can be half written (it then counts as damaged, as after a crash, not as an entry).
 */
function journalOf(path: string): { t: string; vmid?: number; kind?: string }[] {
  return existsSync(path) ? (readJournal(path).entries as { t: string }[]) : [];
}

describe('a job killed with its shim', () => {
  let sim: RunningSimulator;
  let stateDir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    sim = await startSimulator({ fleet: fleetFromConfigs(FLEET), http: true, authDelayMs: 0, timeScale: 0.001, seed: 3 });
    stateDir = mkdtempSync(join(tmpdir(), 'dp-jobs-kill-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await sim.state.settle();
    await sim.close();
  });

  it('resumes on restart from its journal and finishes; rollback then restores byte-identical configs', async () => {
    const original = new Map(FLEET.map((f) => [f.vmid, sim.state.vms.get(f.vmid)!.text]));
    const opts = { upstream: sim.url, token: sim.token, stateDir, csrfToken: CSRF, jobEngine: ENGINE };
    const first = await spawnShim(opts);
    children.push(first.child);
    const plan = await makePlan(first.url, vmsOf(sim));
    const eligible = plan.plan.vms.filter((v) => v.eligible).map((v) => v.vmid);
    expect(eligible).toHaveLength(FLEET.length);
    // Slow writes, so the kill lands with VMs in flight.
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/*/config', method: 'POST', kind: 'latency', latencyMs: 150 }] });
    const job = await startJob(first.url, { planId: plan.id, reboot: 'now', concurrency: 3, perNodeRebootConcurrency: 2 });
    const journal = job.journal;
    const deadline = Date.now() + 60_000;
    while (journalOf(journal).filter((e) => e.t === 'vm').length < 2 || !journalOf(journal).some((e) => e.t === 'write' && !journalOf(journal).some((r) => r.t === 'vm' && r.vmid === e.vmid))) {
      if (Date.now() > deadline) throw new Error('the job did not get going');
      await new Promise((r) => setTimeout(r, 10));
    }
    // From here on a write is carried out but not answered for a minute (the simulator applies a
    // request when it comes and holds only the answer): the job is still running at the kill
    // below however long this process takes to start another shim (it used to need the other
    // writes to outlast that, 150 ms each). The kill ends the wait; the resume finds those writes done.
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/*/config', method: 'POST', kind: 'latency', latencyMs: 60_000 }] });
    // Another shim on the same state directory meanwhile lists the job but never runs it too.
    const other = await startShim({ upstream: sim.url, token: sim.token, stateDir, jobEngine: ENGINE });
    const refused = await api<JobView>(other.url, 'POST', '/dp/jobs', { planId: plan.id, reboot: 'never', vmids: [eligible[0]] });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(`another shim (pid ${first.child.pid}) runs the jobs of ${stateDir}`);
    expect((await api<{ jobs: { id: string; status: string }[] }>(other.url, 'GET', '/dp/jobs')).body.jobs.map((j) => [j.id, j.status])).toEqual([[job.id, 'running']]);
    await other.close();
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    sim.state.setFaults(undefined);
    const atKill = journalOf(journal);
    expect(atKill.filter((e) => e.t === 'vm').length).toBeLessThan(FLEET.length);
    expect(atKill.some((e) => e.t === 'end')).toBe(false);
    const record = JSON.parse(readFileSync(join(stateDir, 'jobs', `${job.id}.json`), 'utf8')) as JobRecord;
    expect(record.status).toBe('running');

    // A new shim process on the same state directory picks the job up by itself.
    const second = await spawnShim(opts);
    children.push(second.child);
    const done = await waitForJob(second.url, job.id);
    expect(done.status).toBe('finished');
    expect(done.vms.filter((v) => v.state !== 'verified').map((v) => `${v.vmid} ${v.state} ${v.reason}`)).toEqual([]);
    const entries = journalOf(journal);
    expect(entries.filter((e) => e.t === 'run')).toHaveLength(2);
    // Each VM written once at most (no second write after the resume), every one has exactly one result.
    for (const vmid of eligible) {
      expect(entries.filter((e) => e.t === 'vm' && e.vmid === vmid)).toHaveLength(1);
      const writesDone = entries.filter((e) => e.t === 'write-done' && e.vmid === vmid && (e as { ok?: boolean }).ok);
      expect(writesDone.length).toBeLessThanOrEqual(1);
      const text = sim.state.vms.get(vmid)!.text;
      expect(text).toMatch(/^scsihw: virtio-scsi-single$/m);
      expect(text).not.toContain('[PENDING]');
    }
    const listed = await api<{ jobs: { id: string; status: string }[] }>(second.url, 'GET', '/dp/jobs');
    expect(listed.body.jobs.find((j) => j.id === job.id)!.status).toBe('finished');

    // Every reboot sent is in the audit log, by the token, with its node (one cut by the kill has
    // no 'done' line: the resumed run let PVE finish it rather than reboot again).
    const audit = readFileSync(join(stateDir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine);
    const reboots = audit.filter((l) => l.job === job.id && l.action === 'reboot' && l.phase === 'sent');
    expect([...new Set(reboots.map((l) => l.vmid))].sort()).toEqual(FLEET.filter((f) => f.status === 'running').map((f) => f.vmid));
    for (const l of reboots) expect(l.node).toBe(FLEET.find((f) => f.vmid === l.vmid)!.node);
    expect(new Set(audit.map((l) => l.who))).toEqual(new Set([sim.token.split('=')[0]]));

    const rb = await api<JobView>(second.url, 'POST', `/dp/jobs/${job.id}/rollback`, { reboot: 'now', concurrency: 4, perNodeRebootConcurrency: 2 });
    expect(rb.status).toBe(200);
    const restored = await waitForJob(second.url, rb.body.id);
    expect(restored.vms.filter((v) => v.outcome !== 'restored').map((v) => `${v.vmid} ${v.state} ${v.reason}`)).toEqual([]);
    for (const f of FLEET) expect(sim.state.vms.get(f.vmid)!.text, `VM ${f.vmid}`).toBe(original.get(f.vmid));
    second.child.kill('SIGTERM');
  }, 120_000);
});
