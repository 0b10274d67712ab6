// SPDX-License-Identifier: AGPL-3.0-or-later
/** One table per reason code: configurations where it fires (with its severity) and where it must not. */
import { describe, expect, it } from 'vitest';
import { assessRisk, type RiskCode, type RiskEvidenceInput } from '../../../src/analysis/risk/index.js';
import type { RiskLevel, VmReport } from '../../../src/analysis/types.js';
import { disk, quietEvidence, singleIothread, vm } from './build.js';

interface Case {
  name: string;
  vm: VmReport;
  evidence?: RiskEvidenceInput;
  /** Expected severity when it fires; null = must not fire. */
  expect: RiskLevel | null;
  /** Disk the reason must name (when it fires). */
  disk?: string;
}

const MiB = 1048576;
const single = { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' };
const io = (avgMiB: number, peakMiB: number) => ({
  io: { timeframe: 'hour' as const, avgBytesPerSec: avgMiB * MiB, peakBytesPerSec: peakMiB * MiB, avgReadBytesPerSec: avgMiB * MiB, avgWriteBytesPerSec: 0, samples: 60 },
});
const qmp = (count: number) => ({
  qmpTimeouts: { count, windowHours: 24, commands: { 'query-proxmox-support': count }, samples: [`VM 100 qmp command 'query-proxmox-support' failed - got timeout`], truncated: false },
});
const cpu = (hostCpus: number, runningVcpus: number, vmVcpus = 4) => ({ nodeCpu: { node: 'pve1', hostCpus, runningVcpus, vmVcpus } });
const job = (fleecing: 'on' | 'off' | 'unset', nodeDefaultFleecing?: boolean | { unavailable: string; cause: 'permission' }) => ({
  backupJobs: [{ id: 'backup-daily', fleecing, mode: 'snapshot', selection: 'all', storage: 'pbs1', schedule: '21:00', ...(nodeDefaultFleecing === undefined ? {} : { nodeDefaultFleecing }) }],
});
const ramSnap = (network: boolean, qemuVersion = '11.0.0') => ({
  qemuVersion,
  ramSnapshots: [{ name: 'pre', vmstate: network ? 'nfs1:100/vm-100-state-pre.raw' : 'local:100/vm-100-state-pre.raw', storage: network ? 'nfs1' : 'local', storageType: network ? 'nfs' : 'dir', network }],
});

const TABLE: Partial<Record<RiskCode, Case[]>> = {
  MAIN_LOOP_IO: [
    { name: 'lsi (scsihw unset)', vm: vm([disk('scsi0')]), expect: 'warning', disk: 'scsi0' },
    { name: 'lsi53c810', vm: vm([disk('scsi0', { controller: 'lsi53c810' })]), expect: 'warning', disk: 'scsi0' },
    { name: 'megasas', vm: vm([disk('scsi0', { controller: 'megasas' })]), expect: 'warning', disk: 'scsi0' },
    { name: 'pvscsi', vm: vm([disk('scsi0', { controller: 'pvscsi' })]), expect: 'warning', disk: 'scsi0' },
    { name: 'ide', vm: vm([disk('ide0')]), expect: 'warning', disk: 'ide0' },
    { name: 'sata', vm: vm([disk('sata1')]), expect: 'warning', disk: 'sata1' },
    { name: 'ide on q35 (ich9-ahci)', vm: vm([disk('ide0', { controller: 'ich9-ahci' })]), expect: 'warning', disk: 'ide0' },
    { name: 'virtio-scsi-pci without iothread', vm: vm([disk('scsi0', { controller: 'virtio-scsi-pci' })]), expect: 'info', disk: 'scsi0' },
    { name: 'virtio-blk without iothread', vm: vm([disk('virtio0')]), expect: 'info', disk: 'virtio0' },
    { name: 'virtio-scsi-single without iothread', vm: vm([disk('scsi0', { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0' })], { scsihw: single }), expect: 'info', disk: 'scsi0' },
    { name: 'virtio-scsi-single + iothread', vm: vm([singleIothread('scsi0')], { scsihw: single }), expect: null },
    { name: 'virtio-blk + iothread', vm: vm([disk('virtio0', { iothread: true })]), expect: null },
    { name: 'ide cdrom', vm: vm([disk('ide2', { media: 'cdrom', volume: 'local:iso/x.iso' })]), expect: null },
    { name: 'empty drive (none)', vm: vm([disk('sata0', { volume: 'none', qemuDevice: 'ide-hd', aioEffective: null, cacheDirect: null })]), expect: null },
    {
      name: 'stopped VM: pending iothread fix counts (next start applies it)',
      vm: vm([disk('scsi0', { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0' }, { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0', iothread: true })], { status: 'stopped', scsihw: single }),
      expect: null,
    },
    {
      name: 'running VM: pending iothread fix does not count yet',
      vm: vm([disk('scsi0', { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0' }, { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0', iothread: true })], { scsihw: single }),
      expect: 'info',
      disk: 'scsi0',
    },
  ],
  MAIN_LOOP_IO_LOAD: [
    { name: 'heavy average on lsi', vm: vm([disk('scsi0')]), evidence: quietEvidence(io(25, 40)), expect: 'warning' },
    { name: 'heavy peak on virtio-blk', vm: vm([disk('virtio0')]), evidence: quietEvidence(io(2, 150)), expect: 'warning' },
    { name: 'light IO', vm: vm([disk('scsi0')]), evidence: quietEvidence(io(5, 50)), expect: null },
    { name: 'heavy IO but every disk has an IO thread', vm: vm([singleIothread('scsi0')], { scsihw: single }), evidence: quietEvidence(io(300, 900)), expect: null },
    { name: 'stopped VM', vm: vm([disk('scsi0')], { status: 'stopped' }), evidence: quietEvidence(io(300, 900)), expect: null },
  ],
  IOTHREAD_IGNORED: [
    { name: 'iothread=1 on lsi', vm: vm([disk('scsi0', { iothread: true, iothreadEffective: false })]), expect: 'warning', disk: 'scsi0' },
    {
      name: 'iothread=1 on virtio-scsi-pci',
      vm: vm([disk('scsi1', { controller: 'virtio-scsi-pci', iothread: true, iothreadEffective: false })], { scsihw: { configured: 'virtio-scsi-pci', effective: 'virtio-scsi-pci' } }),
      expect: 'warning',
      disk: 'scsi1',
    },
    { name: 'iothread=1 on virtio-scsi-single', vm: vm([singleIothread('scsi0')], { scsihw: single }), expect: null },
    { name: 'iothread=1 on virtio-blk (any scsihw)', vm: vm([disk('virtio0', { iothread: true })]), expect: null },
    { name: 'no iothread at all', vm: vm([disk('scsi0')]), expect: null },
  ],
  AIO_NATIVE_IOTHREAD: [
    { name: 'explicit native + iothread', vm: vm([singleIothread('scsi0', { aio: 'native' })], { scsihw: single }), expect: 'info', disk: 'scsi0' },
    { name: 'default native (lvm) + iothread', vm: vm([singleIothread('scsi0', { aioEffective: 'native' })], { scsihw: single }), expect: 'info', disk: 'scsi0' },
    { name: 'threads + iothread', vm: vm([singleIothread('scsi0', { aio: 'threads' })], { scsihw: single }), expect: null },
    { name: 'native without iothread', vm: vm([disk('scsi0', { aio: 'native' })]), expect: null },
  ],
  AIO_NATIVE_NO_DIRECT: [
    { name: 'native + writeback', vm: vm([disk('virtio0', { aio: 'native', cache: 'writeback', cacheDirect: false })]), expect: 'critical', disk: 'virtio0' },
    { name: 'native + cdrom default cache', vm: vm([disk('ide2', { aio: 'native', media: 'cdrom', cacheDirect: false })]), expect: 'critical', disk: 'ide2' },
    {
      name: 'running VM: pending native + writeback (next cold start fails)',
      vm: vm([disk('scsi0', {}, { aio: 'native', cacheDirect: false })]),
      expect: 'critical',
      disk: 'scsi0',
    },
    { name: 'native + cache=none', vm: vm([disk('scsi0', { aio: 'native', cache: 'none' })]), expect: null },
    { name: 'threads + writeback', vm: vm([disk('scsi0', { aio: 'threads', cache: 'writeback', cacheDirect: false })]), expect: null },
    { name: 'native ignored (librbd under -blockdev)', vm: vm([disk('scsi0', { aio: 'native', aioEffective: null, cacheDirect: false })]), expect: null },
    { name: 'pending delete removes the bad disk', vm: vm([disk('scsi0', { aio: 'native', cacheDirect: false }, 'deleted')]), expect: null },
  ],
  START_ERROR: [
    {
      name: 'scsi none without media=cdrom',
      vm: vm([disk('scsi3', { volume: 'none', startError: 'scsi3: an empty drive (none) on SCSI needs media=cdrom, QEMU refuses to start' })]),
      expect: 'critical',
      disk: 'scsi3',
    },
    {
      name: 'only the aio=native start error (reported as AIO_NATIVE_NO_DIRECT instead)',
      vm: vm([disk('scsi0', { aio: 'native', cacheDirect: false, startError: 'aio=native was specified, but it requires cache.direct=on, which was not specified.' })]),
      expect: null,
    },
    { name: 'no start error', vm: vm([disk('scsi0')]), expect: null },
    {
      name: 'a storage missing from the storage.cfg read (NOT_CHECKED instead: the storage.cfg may be partial)',
      vm: vm([disk('scsi0', { startError: "storage 'nvme' does not exist" })]),
      expect: null,
    },
  ],
  PENDING_DATAPLANE: [
    {
      name: 'running: iothread staged, not active',
      vm: vm([disk('scsi0', { controller: 'lsi' }, { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0', iothread: true })], {
        scsihw: { configured: null, effective: 'lsi', pending: { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' } },
      }),
      expect: 'warning',
    },
    { name: 'running: only aio pending', vm: vm([singleIothread('scsi0', {}, )].map((d) => ({ ...d, pending: { ...d, aio: { configured: 'threads' as const, effective: 'threads' as const } } })), { scsihw: single }), expect: 'info' },
    {
      name: 'stopped: applied at next start',
      vm: vm([disk('scsi0', {}, { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0', iothread: true })], { status: 'stopped' }),
      expect: 'info',
    },
    { name: 'nothing pending', vm: vm([disk('scsi0')]), expect: null },
    { name: 'a pending key that changes no disk fact (machine pin)', vm: vm([disk('scsi0')], { pendingDataplaneChanges: true }), expect: null },
  ],
  QMP_TIMEOUTS: [
    { name: 'one timeout', vm: vm([disk('scsi0')]), evidence: quietEvidence(qmp(1)), expect: 'warning' },
    { name: 'recurring timeouts', vm: vm([disk('scsi0')]), evidence: quietEvidence(qmp(12)), expect: 'critical' },
    { name: 'none in window', vm: vm([disk('scsi0')]), evidence: quietEvidence(qmp(0)), expect: null },
  ],
  VCPU_OVERCOMMIT: [
    { name: '3:1', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(cpu(16, 48)), expect: 'info' },
    { name: '5:1', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(cpu(16, 80)), expect: 'warning' },
    { name: 'VM wider than the host', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(cpu(8, 12, 12)), expect: 'warning' },
    { name: '1.5:1', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(cpu(16, 24)), expect: null },
    { name: 'stopped VM', vm: vm([singleIothread('scsi0')], { status: 'stopped' }), evidence: quietEvidence(cpu(16, 80)), expect: null },
  ],
  MANY_DISKS_ONE_CONTROLLER: [
    { name: '3 disks on lsi scsihw0', vm: vm([disk('scsi0'), disk('scsi1'), disk('scsi2')]), expect: 'info' },
    { name: '4 disks on sata ahci0', vm: vm([disk('sata0'), disk('sata1'), disk('sata2'), disk('sata3')]), expect: 'info' },
    { name: '2 disks on lsi', vm: vm([disk('scsi0'), disk('scsi1')]), expect: null },
    { name: '3 disks split across lsi controllers (scsi6 | scsi7, scsi8)', vm: vm([disk('scsi6'), disk('scsi7'), disk('scsi8')]), expect: null },
    {
      name: '3 disks on virtio-scsi-pci (not emulated)',
      vm: vm([0, 1, 2].map((i) => disk(`scsi${i}`, { controller: 'virtio-scsi-pci', controllerId: 'scsihw0' }))),
      expect: null,
    },
  ],
  THROTTLE_IOTHREAD: [
    { name: 'mbps on iothread disk', vm: vm([singleIothread('scsi0')], { scsihw: single }), evidence: quietEvidence({ throttles: { scsi0: { mbps: '200' } } }), expect: 'warning', disk: 'scsi0' },
    { name: 'iops_wr on virtio-blk iothread', vm: vm([disk('virtio0', { iothread: true })]), evidence: quietEvidence({ throttles: { virtio0: { iops_wr: '500' } } }), expect: 'warning', disk: 'virtio0' },
    { name: 'limits without iothread', vm: vm([disk('scsi0')]), evidence: quietEvidence({ throttles: { scsi0: { mbps: '200' } } }), expect: null },
    { name: 'iothread without limits', vm: vm([singleIothread('scsi0')], { scsihw: single }), evidence: quietEvidence({ throttles: {} }), expect: null },
  ],
  BACKUP_NO_FLEECING: [
    { name: 'job without fleecing', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(job('off')), expect: 'warning' },
    { name: 'job unset, node default off', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(job('unset', false)), expect: 'warning' },
    { name: 'job with fleecing', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(job('on')), expect: null },
    { name: 'job unset, node default on', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(job('unset', true)), expect: null },
    {
      name: 'job unset, node default unreadable (never guessed off)',
      vm: vm([singleIothread('scsi0')]),
      evidence: quietEvidence(job('unset', { unavailable: 'missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs1', cause: 'permission' })),
      expect: null,
    },
    { name: 'no job covers the VM', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence({ backupJobs: [] }), expect: null },
    { name: 'template (never runs a guest)', vm: vm([singleIothread('scsi0')], { template: true }), evidence: quietEvidence(job('off')), expect: null },
  ],
  RAM_SNAPSHOT_NETWORK_STORAGE: [
    { name: 'RAM on NFS, QEMU 11', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(ramSnap(true)), expect: 'info' },
    { name: 'RAM on NFS, QEMU 8.1 (before the state IO thread)', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(ramSnap(true, '8.1.5')), expect: 'warning' },
    { name: 'RAM on local dir', vm: vm([singleIothread('scsi0')]), evidence: quietEvidence(ramSnap(false)), expect: null },
  ],
};

describe.each(Object.entries(TABLE))('%s', (code, cases) => {
  it.each(cases!.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const risk = assessRisk(c.vm, c.evidence ?? quietEvidence());
    const hits = risk.reasons.filter((r) => r.code === code);
    if (c.expect === null) {
      expect(hits, JSON.stringify(hits, null, 1)).toEqual([]);
      return;
    }
    expect(hits.length, JSON.stringify(risk.reasons, null, 1)).toBeGreaterThan(0);
    expect(hits[0]!.severity).toBe(c.expect);
    if (c.disk) expect(hits.map((h) => h.disk)).toContain(c.disk);
    for (const h of hits) {
      expect(h.message).toMatch(/\.$/);
      expect(h.fix.length).toBeGreaterThan(10);
      expect(h.evidence.length).toBeGreaterThan(0);
    }
  });
});

describe('NOT_CHECKED', () => {
  const heavy = vm([disk('scsi0')]);
  it.each([
    ['syslog', { qmpTimeouts: { unavailable: 'missing privilege Sys.Syslog on /nodes/pve1', cause: 'permission' as const } }, '/nodes/pve1/syslog'],
    ['rrddata', { io: { unavailable: 'API error: timeout', cause: 'error' as const } }, '/nodes/pve1/qemu/100/rrddata', 'virtio0'],
    ['node status', { nodeCpu: { unavailable: 'offline audit (files only): needs the PVE API', cause: 'offline' as const } }, '/nodes/pve1/status'],
    ['backup jobs', { backupJobs: { unavailable: 'missing privilege Sys.Audit on /', cause: 'permission' as const } }, '/cluster/backup'],
    ['snapshots', { ramSnapshots: undefined }, '/nodes/pve1/qemu/100/snapshot'],
  ])('an unreadable %s makes that part unknown and names why', (_what, override, source, virtioDisk?: string) => {
    const ev = { ...quietEvidence(), ...override } as RiskEvidenceInput;
    // rrddata only matters for a VM with main-loop disks: a virtio-blk disk without IO thread (info).
    const subject = virtioDisk ? vm([disk(virtioDisk)]) : vm([singleIothread('scsi0')], { scsihw: single });
    const risk = assessRisk(subject, ev);
    const nc = risk.reasons.filter((r) => r.code === 'NOT_CHECKED');
    expect(nc).toHaveLength(1);
    expect(nc[0]!.severity).toBe('unknown');
    expect(nc[0]!.evidence[0]).toMatchObject({ kind: 'missing', label: source });
    expect(risk.level).toBe('unknown');
    expect(risk.unavailable).toHaveLength(1);
    expect(risk.unavailable![0]).toContain(source);
  });

  it('a storage missing from storage.cfg is unknown once per storage, not critical', () => {
    const missing = (key: string) => disk(key, { startError: "storage 'nvme' does not exist" });
    const risk = assessRisk(vm([singleIothread('scsi0'), singleIothread('scsi1')].map((d) => ({ ...d, startError: "storage 'nvme' does not exist" })), { scsihw: single }), quietEvidence());
    expect(risk.level).toBe('unknown');
    expect(risk.reasons.map((r) => r.code)).toEqual(['NOT_CHECKED']);
    expect(risk.reasons[0]!.message).toContain('scsi0, scsi1');
    expect(risk.unavailable).toEqual(["storage.cfg: storage 'nvme' not defined (used by scsi0, scsi1)"]);
    // A real start error next to it still makes the VM critical.
    const both = assessRisk(vm([missing('scsi0'), disk('scsi1', { startError: 'scsi1: an empty drive (none) on SCSI needs media=cdrom, QEMU refuses to start' })]), quietEvidence());
    expect(both.level).toBe('critical');
    expect(both.reasons[0]!.message).toBe('scsi1: an empty drive (none) on SCSI needs media=cdrom, QEMU refuses to start, so the next cold start of the VM will fail.');
  });

  it('an unreadable node fleecing default makes the backup part unknown, once per cause, naming the jobs', () => {
    const why = { unavailable: 'missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs1', cause: 'permission' as const };
    const ev = quietEvidence({
      backupJobs: [
        { id: 'backup-daily', fleecing: 'unset', mode: 'snapshot', selection: 'all', storage: 'pbs1', nodeDefaultFleecing: why },
        { id: 'backup-db', fleecing: 'unset', mode: 'snapshot', selection: 'vmid list', storage: 'pbs1', nodeDefaultFleecing: why },
        { id: 'backup-off', fleecing: 'off', mode: 'snapshot', selection: 'pool web' },
      ],
    });
    const risk = assessRisk(vm([singleIothread('scsi0')], { scsihw: single }), ev);
    // The explicit "off" is still a warning; the unknown part is listed beside it.
    expect(risk.level).toBe('warning');
    expect(risk.reasons.map((r) => r.code)).toEqual(['BACKUP_NO_FLEECING', 'NOT_CHECKED']);
    const nc = risk.reasons[1]!;
    expect(nc.message).toBe(
      'Could not check whether backup jobs backup-daily, backup-db run with fleecing (not set in the job, so /etc/vzdump.conf on node pve1 decides): missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs1.',
    );
    expect(nc.fix).toContain('Datastore.Audit or Datastore.AllocateSpace on /storage/pbs1');
    expect(nc.fix).toContain('set fleecing explicitly on job backup-daily, backup-db');
    expect(risk.unavailable).toEqual(['/nodes/pve1/vzdump/defaults: missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs1']);
  });

  it('names the privilege to grant', () => {
    const risk = assessRisk(vm([singleIothread('scsi0')], { scsihw: single }), quietEvidence({ backupJobs: { unavailable: 'missing privilege Sys.Audit on /', cause: 'permission' } }));
    expect(risk.reasons[0]!.fix).toContain('Sys.Audit on /');
  });

  it('rrddata is not needed when no disk runs in the main loop', () => {
    const risk = assessRisk(vm([singleIothread('scsi0')], { scsihw: single }), quietEvidence({ io: { unavailable: 'x' } }));
    expect(risk.level).toBe('ok');
  });

  it('throttle limits are needed only for IO-thread disks', () => {
    expect(assessRisk(vm([disk('scsi0')]), quietEvidence({ throttles: undefined })).reasons.some((r) => r.code === 'NOT_CHECKED')).toBe(false);
    expect(assessRisk(vm([singleIothread('scsi0')]), quietEvidence({ throttles: undefined })).level).toBe('unknown');
  });

  it('a heavy VM keeps its known warning while a part is unknown', () => {
    const risk = assessRisk(heavy, quietEvidence({ qmpTimeouts: { unavailable: 'x' } }));
    expect(risk.level).toBe('warning');
    expect(risk.unavailable).toEqual(['/nodes/pve1/syslog: x']);
  });
});
