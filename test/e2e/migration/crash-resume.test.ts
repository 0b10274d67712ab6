// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Apply killed at random points, on the simulator: 20 trials that stop the engine at a random
 * journal append (the entry on disk or not, as a kill before or after fsync would leave it), and
 * trials that SIGKILL a real `pve-dataplane apply` process. After each: PVE finishes what it was
 * doing, `apply` with the same journal completes, and `rollback --reboot now` restores every
 * config file byte-for-byte (same digest as before the first apply).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigFileSpec } from '../../../api-shim/simulator/index.js';
import { applyFromPlan } from '../../../src/cli/commands/apply.js';
import { makePlan } from '../../../src/migration/online.js';
import { rollbackFromJournal } from '../../../src/cli/commands/rollback.js';
import { collectFleet } from '../../../src/audit/fleet.js';
import { applyPlan } from '../../../src/migration/apply.js';
import { createApiTarget } from '../../../src/migration/api-target.js';
import type { NewEntry } from '../../../src/migration/journal-model.js';
import type { JournalWriter } from '../../../src/migration/runner.js';
import type { MigrationPlan } from '../../../src/migration/types.js';
import { digestOf } from '../../../src/pve/index.js';
import { JsonlJournal, readJournal } from '../../../src/node/journal.js';
import { LINUX_LSI } from './fleet.js';
import { FAST, type SimEnv, simWith } from './helpers.js';

const FLEET: ConfigFileSpec[] = [
  { vmid: 301, text: LINUX_LSI(301), status: 'running' },
  { vmid: 302, text: LINUX_LSI(302), status: 'stopped' },
  { vmid: 303, text: LINUX_LSI(303), status: 'running', ha: { state: 'started' } },
  { vmid: 304, text: LINUX_LSI(304).replace('smbios1:', 'scsihw: virtio-scsi-pci\nsmbios1:'), status: 'running' },
];

/** Kills the run at the `at`-th append: the entry reaches the disk (`persisted`) or not. */
class KilledJournal implements JournalWriter {
  private n = 0;
  constructor(
    private readonly inner: JsonlJournal,
    private readonly at: number,
    private readonly persisted: boolean,
    private readonly ctrl: AbortController,
  ) {}

  get run(): string {
    return this.inner.run;
  }

  async append(entry: NewEntry): Promise<void> {
    if (this.ctrl.signal.aborted) throw new Error('killed');
    if (this.n++ === this.at) {
      if (this.persisted) await this.inner.append(entry);
      this.ctrl.abort(new Error('killed'));
      throw new Error('killed');
    }
    await this.inner.append(entry);
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function freshSim(): Promise<{ env: SimEnv; plan: MigrationPlan; digests: Map<number, string> }> {
  const env = await simWith(FLEET);
  const digests = new Map(FLEET.map((f) => [f.vmid, digestOf(env.text(f.vmid))]));
  const { plan } = await makePlan(env.client, {}, { aio: 'threads' }, { pve: env.sim.url });
  expect(plan.vms.filter((v) => v.eligible)).toHaveLength(FLEET.length);
  return { env, plan, digests };
}

/** Resume, then rollback; both must complete and every file must be back byte-for-byte. */
async function resumeAndRollback(env: SimEnv, plan: MigrationPlan, journalPath: string, digests: Map<number, string>, label: string) {
  await env.sim.state.settle();
  const resumed = await applyFromPlan(env.client, {
    plan,
    planFile: 'plan.json',
    planHash: 'crash',
    journalPath,
    reboot: 'now',
    concurrency: 2,
    pve: env.sim.url,
    engine: FAST,
  });
  expect(resumed.counts, `${label}: ${JSON.stringify(resumed.results)}`).toEqual({ migrated: FLEET.length });
  for (const f of FLEET) expect(env.text(f.vmid), `${label} VM ${f.vmid}`).toMatch(/^scsihw: virtio-scsi-single$/m);
  const back = await rollbackFromJournal(env.client, { journalPath, reboot: 'now', concurrency: 2, pve: env.sim.url, engine: FAST });
  expect(back.counts, `${label}: ${JSON.stringify(back.results)}`).toEqual({ restored: FLEET.length });
  for (const f of FLEET) {
    expect(digestOf(env.text(f.vmid)), `${label} VM ${f.vmid}`).toBe(digests.get(f.vmid));
    expect(env.sim.state.vms.get(f.vmid)!.status, `${label} VM ${f.vmid}`).toBe(f.status);
  }
}

describe('crash and resume on the simulator', () => {
  it('20 runs killed at a random journal point: resume completes, rollback restores every file', async () => {
    // Length of an uninterrupted run, to draw kill points from.
    const probe = await freshSim();
    const probePath = join(probe.env.dir, 'journal.jsonl');
    await applyFromPlan(probe.env.client, { plan: probe.plan, planFile: 'p', planHash: 'p', journalPath: probePath, reboot: 'now', concurrency: 2, pve: probe.env.sim.url, engine: FAST });
    const total = readJournal(probePath).entries.length;
    await probe.env.close();
    expect(total).toBeGreaterThan(20);

    const random = rng(20251122);
    for (let trial = 0; trial < 20; trial++) {
      const at = Math.floor(random() * total);
      const persisted = random() < 0.5;
      const label = `trial ${trial}: killed at append ${at}/${total} (${persisted ? 'after' : 'before'} fsync)`;
      const { env, plan, digests } = await freshSim();
      try {
        const journalPath = join(env.dir, 'journal.jsonl');
        const { env: analysisEnv } = await collectFleet(env.client, {});
        const inner = JsonlJournal.open(journalPath, `killed-${trial}`);
        const ctrl = new AbortController();
        await expect(
          applyPlan(plan, createApiTarget(env.client, { env: analysisEnv, pollMs: 10 }), new KilledJournal(inner, at, persisted, ctrl), [], {
            ...FAST,
            reboot: 'now',
            concurrency: 2,
            signal: ctrl.signal,
          }),
          label,
        ).rejects.toThrow('killed');
        await inner.close();
        await resumeAndRollback(env, plan, journalPath, digests, label);
      } finally {
        await env.close();
      }
    }
  }, 120_000);

  it('a real apply process killed with SIGKILL: resume completes, rollback restores every file', async () => {
    const main = join(process.cwd(), 'src', 'cli', 'main.ts');
    for (const linesBeforeKill of [3, 9]) {
      const { env, plan, digests } = await freshSim();
      try {
        const planPath = join(env.dir, 'plan.json');
        writeFileSync(planPath, JSON.stringify(plan));
        const journalPath = join(env.dir, 'journal.jsonl');
        // `node --import tsx`, not the tsx wrapper: SIGKILL must hit the process that does the work.
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', main, 'apply', '--pve', env.sim.url, '--token-file', join(env.dir, 'token'), '--from-plan', planPath, '--journal', journalPath, '--reboot', 'now', '--concurrency', '2', '--yes'],
          { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
        );
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        // Kill as soon as the journal holds that many entries (mid-run, a write or reboot in flight).
        const deadline = Date.now() + 30_000;
        let killedMidRun = false;
        while (Date.now() < deadline) {
          if (existsSync(journalPath) && readFileSync(journalPath, 'utf8').split('\n').length - 1 >= linesBeforeKill) {
            killedMidRun = child.kill('SIGKILL');
            break;
          }
          if (child.exitCode !== null) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        await exited;
        expect(killedMidRun, `the child ended before ${linesBeforeKill} journal lines: ${stderr}`).toBe(true);
        await resumeAndRollback(env, plan, journalPath, digests, `SIGKILL after ${linesBeforeKill} lines`);
      } finally {
        await env.close();
      }
    }
  }, 120_000);
});
