// SPDX-License-Identifier: AGPL-3.0-or-later
/** The pure readers that turn syslog lines, rrddata points, backup jobs and config text into risk facts. */
import { describe, expect, it } from 'vitest';
import {
  backupJobFromApi,
  countQmpTimeouts,
  jobsCovering,
  parseFleecing,
  parseJobsCfg,
  parsePoolsFromUserCfg,
  riskFactsFromConfig,
  summariseRrd,
  throttleLimits,
} from '../../../src/analysis/risk/index.js';
import type { AnalysisEnv, VmInput } from '../../../src/analysis/types.js';
import type { StorageEntry } from '../../../src/pve/types.js';

describe('countQmpTimeouts', () => {
  const lines = [
    'Nov 22 07:50:01 pve1 pvestatd[1201]: VM 100 qmp command failed - VM 100 qmp command \'query-proxmox-support\' failed - got timeout',
    'Nov 22 07:50:11 pve1 pvestatd[1201]: VM 100 qmp command failed - VM 100 qmp command \'query-proxmox-support\' failed - got timeout',
    'Nov 22 07:51:00 pve1 pvedaemon[900]: VM 101 qmp command \'guest-ping\' failed - got timeout',
    'Nov 22 07:52:00 pve1 qm[3000]: VM 102 qmp command \'query-status\' failed - got timeout',
    'Nov 22 07:52:30 pve1 pvestatd[1201]: VM 103 qmp command failed - unable to connect to VM 103 qmp socket - timeout after 51 retries',
    'Nov 22 07:53:00 pve1 kernel: [12.3] vmbr0: port 2 entered forwarding state',
  ];
  const stats = countQmpTimeouts(lines, 24);

  it('counts main-loop timeouts per VM, once per line', () => {
    expect(stats.get(100)).toMatchObject({ count: 2, commands: { 'query-proxmox-support': 2 }, windowHours: 24 });
    expect(stats.get(100)!.samples).toHaveLength(2);
    expect(stats.get(102)!.count).toBe(1);
  });

  it('ignores guest-agent timeouts and socket connect failures (no main-loop evidence)', () => {
    expect(stats.has(101)).toBe(false);
    expect(stats.has(103)).toBe(false);
  });

  it('keeps at most three sample lines and marks truncated answers', () => {
    const many = Array.from({ length: 7 }, (_, i) => `l${i} VM 5 qmp command 'query-status' failed - got timeout`);
    const s = countQmpTimeouts(many, 6, true).get(5)!;
    expect(s.count).toBe(7);
    expect(s.samples).toEqual(many.slice(0, 3));
    expect(s.truncated).toBe(true);
  });
});

describe('summariseRrd', () => {
  it('averages read+write over the points that carry disk figures (bytes/s)', () => {
    const r = summariseRrd(
      [
        { time: 1, diskread: 1000, diskwrite: 3000 },
        { time: 2, diskread: 0, diskwrite: 0 },
        { time: 3, maxcpu: 4 }, // VM was stopped: no disk figures
        { time: 4, diskread: 5000, diskwrite: 1000 },
      ],
      'hour',
    );
    expect(r).toEqual({ timeframe: 'hour', avgBytesPerSec: 10000 / 3, peakBytesPerSec: 6000, avgReadBytesPerSec: 2000, avgWriteBytesPerSec: 4000 / 3, samples: 3 });
  });

  it('reports zero samples for a VM without disk figures', () => {
    expect(summariseRrd([{ time: 1, maxmem: 1 }], 'hour').samples).toBe(0);
  });
});

describe('backup jobs', () => {
  const cfg = [
    'vzdump: backup-all',
    '\tschedule 21:00',
    '\tall 1',
    '\texclude 102,103',
    '\tmode snapshot',
    '\tstorage pbs1',
    '',
    'vzdump: backup-list',
    '\tvmid 102,105',
    '\tfleecing enabled=1,storage=local-lvm',
    '\tnode pve2',
    '',
    'vzdump: backup-pool',
    '\tpool web',
    '\tenabled 0',
    '',
    'vzdump: backup-pool2',
    '\tpool db',
    '\tfleecing 1',
    '',
    'realm-sync: sync-ldap',
    '\trealm ldap',
    '',
  ].join('\n');
  const jobs = parseJobsCfg(cfg);

  it('reads only vzdump sections of jobs.cfg', () => {
    expect(jobs.map((j) => j.id)).toEqual(['backup-all', 'backup-list', 'backup-pool', 'backup-pool2']);
    expect(jobs[0]!.props).toMatchObject({ schedule: '21:00', all: '1', exclude: '102,103', storage: 'pbs1' });
  });

  it('all minus exclude', () => {
    expect(jobsCovering(jobs, { vmid: 100, node: 'pve1', pool: null }).covering.map((c) => c.id)).toEqual(['backup-all']);
    expect(jobsCovering(jobs, { vmid: 102, node: 'pve1', pool: null }).covering).toEqual([]);
  });

  it('a vmid list only on the job node', () => {
    expect(jobsCovering(jobs, { vmid: 105, node: 'pve2', pool: null }).covering).toEqual([
      expect.objectContaining({ id: 'backup-all', fleecing: 'unset' }),
      expect.objectContaining({ id: 'backup-list', fleecing: 'on', fleecingStorage: 'local-lvm', selection: 'vmid list' }),
    ]);
    expect(jobsCovering(jobs, { vmid: 102, node: 'pve1', pool: null }).covering).toEqual([]);
  });

  it('pools: disabled jobs never cover; unknown membership is undetermined, not "not covered"', () => {
    expect(jobsCovering(jobs, { vmid: 102, node: 'pve1', pool: 'db' }).covering.map((c) => c.id)).toEqual(['backup-pool2']);
    expect(jobsCovering(jobs, { vmid: 102, node: 'pve1' }).undetermined).toEqual(['backup-pool2']);
  });

  it('reads /cluster/backup entries (0/1 numbers) the same way', () => {
    const job = backupJobFromApi({ id: 'backup-x', type: 'vzdump', all: 1, enabled: 1, fleecing: 'enabled=0', mode: 'stop', schedule: 'sat 02:00' })!;
    expect(jobsCovering([job], { vmid: 7, node: 'n' }).covering).toEqual([
      { id: 'backup-x', fleecing: 'off', mode: 'stop', selection: 'all', schedule: 'sat 02:00' },
    ]);
    expect(backupJobFromApi({ id: 'x', type: 'realm-sync' })).toBeNull();
  });

  it('parses the fleecing property string', () => {
    expect(parseFleecing(undefined)).toEqual({ fleecing: 'unset' });
    expect(parseFleecing('1')).toEqual({ fleecing: 'on' });
    expect(parseFleecing('enabled=yes,storage=fast')).toEqual({ fleecing: 'on', storage: 'fast' });
    expect(parseFleecing('storage=fast')).toEqual({ fleecing: 'off', storage: 'fast' });
  });

  it('reads pool membership from user.cfg', () => {
    const pools = parsePoolsFromUserCfg('user:root@pam:1:0::::::\npool:web:Web servers:100,101::\npool:db::102:local:\n');
    expect([...pools]).toEqual([[100, 'web'], [101, 'web'], [102, 'db']]);
  });
});

describe('riskFactsFromConfig', () => {
  const env: AnalysisEnv = {
    storages: new Map<string, StorageEntry>([
      ['nfs1', { id: 'nfs1', type: 'nfs', props: {} }],
      ['local', { id: 'local', type: 'dir', props: {} }],
      ['san', { id: 'san', type: 'lvm', props: { shared: '1' } }],
    ]),
    installedQemu: [11, 0, 0],
    installedQemuAssumed: false,
  };
  const input = (over: Partial<VmInput> = {}): VmInput => ({
    vmid: 100,
    node: 'pve1',
    source: '100.conf',
    digest: '',
    current: { scsi0: 'local:100/vm-100-disk-0.raw,iothread=1,mbps_rd=100,iops_wr=0,size=8G', scsi1: 'local:100/vm-100-disk-1.raw', net0: 'virtio,bridge=vmbr0,rate=10' },
    pending: {},
    deletes: [],
    issues: [],
    ...over,
  });

  it('collects non-zero throttle limits per drive, nothing else', () => {
    expect(riskFactsFromConfig(input(), env).throttles).toEqual({ scsi0: { mbps_rd: '100' } });
    expect(throttleLimits('x:1,bps_wr=1048576,mbps_max=50,iops_max_length=3')).toEqual({ bps_wr: '1048576', mbps_max: '50' });
  });

  it('finds an iops limit without any bps option, and none in a volume named like one', () => {
    expect(throttleLimits('local-lvm:vm-100-disk-0,iothread=1,iops_rd=7')).toEqual({ iops_rd: '7' });
    expect(throttleLimits('nas:100/mbps-iops-archive.raw,cache=none')).toEqual({});
    expect(throttleLimits('local-lvm:vm-100-disk-0,iothread=1,cache=none')).toEqual({});
  });

  it('uses the pending limits for a stopped VM', () => {
    const stopped = input({ runtime: { status: 'stopped' }, pending: { scsi1: 'local:100/vm-100-disk-1.raw,iops=300' }, deletes: [{ key: 'scsi0', force: false }] });
    expect(riskFactsFromConfig(stopped, env).throttles).toEqual({ scsi1: { iops: '300' } });
  });

  it('finds RAM snapshots and whether their storage is networked', () => {
    const facts = riskFactsFromConfig(
      input({ snapshots: [{ vmstate: 'nfs1:100/vm-100-state-pre-upgrade.raw', name: 'vm100' }, { vmstate: 'san:vm-100-state-b' }, { snaptime: '1' }, { vmstate: 'local:100/vm-100-state-c.raw' }] }),
      env,
    );
    expect(facts.ramSnapshots).toEqual([
      { vmstate: 'nfs1:100/vm-100-state-pre-upgrade.raw', storage: 'nfs1', storageType: 'nfs', network: true, name: 'pre-upgrade' },
      { vmstate: 'san:vm-100-state-b', storage: 'san', storageType: 'lvm', network: true, name: 'b' },
      { vmstate: 'local:100/vm-100-state-c.raw', storage: 'local', storageType: 'dir', network: false, name: 'c' },
    ]);
  });

  it('marks snapshots unavailable when the input did not read them and the config names one', () => {
    expect(riskFactsFromConfig(input({ current: { parent: 'snap1' } }), env).ramSnapshots).toMatchObject({ unavailable: expect.any(String) });
    expect(riskFactsFromConfig(input(), env).ramSnapshots).toEqual([]);
  });

  it('takes the running QEMU for a running VM, else the installed one', () => {
    expect(riskFactsFromConfig(input({ runtime: { status: 'running', runningQemu: '9.0.2' } }), env).qemuVersion).toBe('9.0.2');
    expect(riskFactsFromConfig(input(), env).qemuVersion).toBe('11.0.0');
  });
});
