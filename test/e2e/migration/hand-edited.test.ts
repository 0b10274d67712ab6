// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A hand-edited config file (keys not in PVE's order): PVE rewrites the whole file sorted on the
 * first API write, so rollback cannot give the same bytes back; it must say that every value is
 * back and why the digest still differs, rather than hint that something else changed.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFromPlan } from '../../../src/cli/commands/apply.js';
import { makePlan } from '../../../src/migration/online.js';
import { rollbackFromJournal } from '../../../src/cli/commands/rollback.js';
import { FAST, type SimEnv, simWith } from './helpers.js';

const HAND_EDITED = [
  'scsihw: megasas',
  'scsi0: local-lvm:vm-702-disk-0,size=32G',
  'boot: order=scsi0',
  'name: edited-702',
  'memory: 2048',
  'ostype: l26',
  'smbios1: uuid=7c1f6f0e-0000-4000-8000-000000000702',
  '',
].join('\n');

describe('rollback of a hand-edited config file', () => {
  let env: SimEnv;
  beforeAll(async () => {
    env = await simWith([{ vmid: 702, text: HAND_EDITED, status: 'running', node: 'pve1' }]);
  });
  afterAll(() => env?.close());

  it('says every value is back and that PVE only reordered the file', async () => {
    const journalPath = join(env.dir, 'hand-edited.jsonl');
    rmSync(journalPath, { force: true });
    const { plan } = await makePlan(env.client, { vmids: [702] }, { aio: 'threads' }, { pve: env.sim.url });
    await applyFromPlan(env.client, { plan, planFile: 'p.json', planHash: 'h', journalPath, reboot: 'now', concurrency: 1, pve: env.sim.url, engine: FAST });
    const rolled = await rollbackFromJournal(env.client, { journalPath, reboot: 'now', concurrency: 1, pve: env.sim.url, engine: FAST });
    expect(rolled.results[0]).toMatchObject({ vmid: 702, result: 'restored' });
    expect(rolled.results[0]!.reason).toContain('every key has its value from before the first apply');
    expect(rolled.results[0]!.reason).toContain("PVE rewrote the hand-edited file in its own key order");
    expect(env.text(702).split('\n').filter(Boolean).sort()).toEqual(HAND_EDITED.split('\n').filter(Boolean).sort());
  }, 30_000);
});
