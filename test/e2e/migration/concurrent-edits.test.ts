// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Another user edits VMs while apply writes (simulator hook inside the config-update worker,
 * between PVE's first digest check and the one under the lock). Zero lost updates: every edit is
 * still there afterwards, and every conflicted VM is re-planned or reported.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFromPlan } from '../../../src/cli/commands/apply.js';
import { makePlan } from '../../../src/migration/online.js';
import type { RunSummary } from '../../../src/migration/runner.js';
import { readJournal } from '../../../src/node/journal.js';
import { LINUX_LSI } from './fleet.js';
import { FAST, type SimEnv, mainValues, simWith } from './helpers.js';

const IDS = [201, 202, 203, 204, 205, 206];

describe('concurrent edits during apply', () => {
  let env: SimEnv;
  let summary: RunSummary;
  const injected: { vmid: number; key: string; value: string }[] = [];

  beforeAll(async () => {
    env = await simWith(IDS.map((vmid) => ({ vmid, text: LINUX_LSI(vmid), status: vmid % 2 === 0 ? 'running' : 'stopped' })));
    const { plan } = await makePlan(env.client, {}, { aio: 'threads' }, { pve: env.sim.url });
    const attempts = new Map<number, number>();
    const edit = (vmid: number, key: string, value: string): void => {
      const vm = env.sim.state.vms.get(vmid)!;
      const re = new RegExp(`^${key}: .*$`, 'm');
      env.sim.state.writeConfig(vm, vm.text.replace(re, `${key}: ${value}`));
      injected.push({ vmid, key, value });
    };
    env.sim.state.onBeforeWrite = (vmid) => {
      const n = (attempts.get(vmid) ?? 0) + 1;
      attempts.set(vmid, n);
      // 201, 202: one unrelated edit on the first attempt -> re-plan, same change, retry succeeds.
      if ((vmid === 201 || vmid === 202) && n === 1) edit(vmid, 'memory', String(3000 + vmid));
      // 203: two unrelated edits in a row -> still within the bounded retries.
      if (vmid === 203 && n <= 2) edit(vmid, 'cores', String(2 + n));
      // 204: someone changes one of our keys -> the re-plan differs from the saved plan: reported.
      if (vmid === 204 && n === 1) edit(vmid, 'scsi1', 'local-lvm:vm-204-disk-1,backup=0,cache=none,replicate=0,size=100G');
      // 205: the config changes on every attempt -> gives up after the bound, nothing written.
      if (vmid === 205) edit(vmid, 'memory', String(4000 + n));
    };
    summary = await applyFromPlan(env.client, {
      plan,
      planFile: 'plan.json',
      planHash: 'concurrent',
      journalPath: join(env.dir, 'journal.jsonl'),
      reboot: 'now',
      concurrency: 6,
      pve: env.sim.url,
      engine: { ...FAST, maxAttempts: 3 },
    });
    env.sim.state.onBeforeWrite = undefined;
  });
  afterAll(() => env?.close());

  it('loses no update: every injected edit is in the final config', () => {
    expect(injected.length).toBeGreaterThanOrEqual(7);
    const last = new Map<string, string>();
    for (const e of injected) last.set(`${e.vmid}/${e.key}`, e.value);
    for (const [id, value] of last) {
      const [vmid, key] = id.split('/') as [string, string];
      expect(mainValues(env.text(Number(vmid)))[key], id).toBe(value);
    }
  });

  it('re-plans and migrates VMs whose edit did not touch our keys', () => {
    for (const vmid of [201, 202, 203, 206]) {
      const r = summary.results.find((x) => x.vmid === vmid)!;
      expect(r.result, `${vmid}: ${r.reason}`).toBe('migrated');
      expect(mainValues(env.text(vmid)).scsihw).toBe('virtio-scsi-single');
    }
  });

  it('reports a VM whose edit changed what the plan would do, without writing', () => {
    const r = summary.results.find((x) => x.vmid === 204)!;
    expect(r).toMatchObject({ result: 'failed', reason: expect.stringMatching(/changed since the plan: scsi1/) });
    expect(mainValues(env.text(204)).scsihw).toBeUndefined();
  });

  it('gives up on a VM that keeps changing after the bounded retries, without writing', () => {
    const r = summary.results.find((x) => x.vmid === 205)!;
    expect(r).toMatchObject({ result: 'failed', reason: expect.stringContaining('digest mismatches') });
    expect(mainValues(env.text(205)).scsihw).toBeUndefined();
  });

  it('journals each refused attempt as a digest mismatch', () => {
    const { entries } = readJournal(join(env.dir, 'journal.jsonl'));
    const refused = entries.filter((e) => e.t === 'write-done' && e.code === 'digest-mismatch').map((e) => (e as { vmid: number }).vmid);
    expect(refused.filter((v) => v === 203)).toHaveLength(2);
    expect(refused.filter((v) => v === 205)).toHaveLength(3);
  });
});
