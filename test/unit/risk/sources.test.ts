// SPDX-License-Identifier: AGPL-3.0-or-later
/** Assembling a VM's evidence: config, online evidence, offline job files; what to collect. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evidenceNeeds, OFFLINE, parseJobsCfg, riskEvidenceFor } from '../../../src/analysis/risk/index.js';
import type { AnalysisEnv, VmInput } from '../../../src/analysis/types.js';
import { readRiskFiles } from '../../../src/node/risk-files.js';
import { disk, singleIothread, vm } from './build.js';

const env: AnalysisEnv = { storages: new Map(), installedQemu: [11, 0, 0], installedQemuAssumed: true };
const input = (over: Partial<VmInput> = {}): VmInput => ({
  vmid: 100,
  node: 'pve1',
  source: '100.conf',
  digest: '',
  current: { scsi0: 'local-lvm:vm-100-disk-0,size=8G' },
  pending: {},
  deletes: [],
  snapshots: [],
  issues: [],
  ...over,
});

describe('riskEvidenceFor', () => {
  it('a file input: online facts are OFFLINE, config facts are read', () => {
    const ev = riskEvidenceFor(input(), env);
    expect(ev.qmpTimeouts).toBe(OFFLINE);
    expect(ev.backupJobs).toBe(OFFLINE);
    expect(ev.throttles).toEqual({});
    expect(ev.ramSnapshots).toEqual([]);
  });

  it('an API input without collected evidence: "not collected", HA from the runtime', () => {
    const ev = riskEvidenceFor(input({ runtime: { status: 'running', haState: 'started' } }), env);
    expect(ev.io).toMatchObject({ cause: 'not-collected' });
    expect(ev.ha).toEqual({ managed: true, state: 'started' });
  });

  it('online evidence wins over the config-derived defaults', () => {
    const online = new Map([[100, { ramSnapshots: [], io: { unavailable: 'x' } }]]);
    const ev = riskEvidenceFor(input({ snapshots: undefined }), env, { online });
    expect(ev.ramSnapshots).toEqual([]);
    expect(ev.io).toEqual({ unavailable: 'x' });
  });

  it('offline jobs.cfg: coverage per VM; node defaults are outside /etc/pve', () => {
    const backupJobs = parseJobsCfg('vzdump: j1\n\tall 1\n\nvzdump: j2\n\tpool web\n');
    const ev = riskEvidenceFor(input(), env, { backupJobs, pools: new Map([[100, 'web']]) });
    expect(ev.backupJobs).toEqual([
      { id: 'j1', fleecing: 'unset', mode: 'snapshot', selection: 'all', nodeDefaultFleecing: { unavailable: '/etc/vzdump.conf is not in /etc/pve', cause: 'offline' } },
      { id: 'j2', fleecing: 'unset', mode: 'snapshot', selection: 'pool web', nodeDefaultFleecing: { unavailable: '/etc/vzdump.conf is not in /etc/pve', cause: 'offline' } },
    ]);
    // Without user.cfg a pool job cannot be decided.
    expect(riskEvidenceFor(input(), env, { backupJobs: parseJobsCfg('vzdump: j2\n\tpool web\n') }).backupJobs).toMatchObject({ cause: 'not-collected' });
  });
});

describe('evidenceNeeds', () => {
  it('asks for rrddata only for a running VM with a main-loop disk, and snapshots only with `parent`', () => {
    expect(evidenceNeeds(vm([disk('scsi0')]), input())).toEqual({ needsIo: true, hasSnapshots: false, askGuestOs: false });
    expect(evidenceNeeds(vm([singleIothread('scsi0')]), input({ current: { parent: 'snap1' } }))).toEqual({ needsIo: false, hasSnapshots: true, askGuestOs: false });
    // The guest agent is asked only where ostype does not name the OS, and only when it is enabled.
    expect(evidenceNeeds(vm([disk('scsi0')], { ostype: 'other' }), input({ current: { agent: '1' } })).askGuestOs).toBe(true);
    expect(evidenceNeeds(vm([disk('scsi0')], { ostype: 'other' }), input({ current: { agent: 'enabled=0' } })).askGuestOs).toBe(false);
    expect(evidenceNeeds(vm([disk('scsi0')], { ostype: 'l26' }), input({ current: { agent: '1' } })).askGuestOs).toBe(false);
    expect(evidenceNeeds(vm([disk('scsi0')], { ostype: null, status: 'stopped' }), input({ current: { agent: '1' } })).askGuestOs).toBe(false);
    expect(evidenceNeeds(vm([disk('scsi0')], { status: 'stopped' }), input()).needsIo).toBe(false);
    expect(evidenceNeeds(vm([disk('scsi0')], { template: true }), input()).needsIo).toBe(false);
  });
});

describe('readRiskFiles', () => {
  it('reads jobs.cfg and the pools of user.cfg; missing files are fine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-risk-'));
    expect(await readRiskFiles(dir)).toEqual({ sources: {}, issues: [] });
    writeFileSync(join(dir, 'jobs.cfg'), 'vzdump: j1\n\tall 1\n');
    writeFileSync(join(dir, 'user.cfg'), 'pool:web::101:\n');
    const { sources, issues } = await readRiskFiles(dir);
    expect(sources.backupJobs?.map((j) => j.id)).toEqual(['j1']);
    expect([...sources.pools!]).toEqual([[101, 'web']]);
    expect(issues).toEqual([]);
  });

  it('an unreadable file is a warning naming it, and the backup part stays unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-risk-'));
    mkdirSync(join(dir, 'jobs.cfg'));
    const { sources, issues } = await readRiskFiles(dir);
    expect(sources.backupJobs).toBeUndefined();
    expect(issues).toEqual([expect.objectContaining({ source: join(dir, 'jobs.cfg'), severity: 'warning' })]);
    expect(issues[0]!.message).toMatch(/^cannot read backup jobs \(.+\): the backup part of the risk stays unknown$/);
  });
});
