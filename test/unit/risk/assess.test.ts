// SPDX-License-Identifier: AGPL-3.0-or-later
/** How reasons combine into a level, templates, ordering, and what an offline audit reports. */
import { describe, expect, it } from 'vitest';
import { assessRisk, OFFLINE, RISK_CODES, unavailable } from '../../../src/analysis/risk/index.js';
import { disk, quietEvidence, singleIothread, vm } from './build.js';

const single = { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' };

describe('level', () => {
  it('is ok for a migrated VM with every fact known and harmless', () => {
    expect(assessRisk(vm([singleIothread('scsi0', { aio: 'threads' })], { scsihw: single }), quietEvidence())).toEqual({ level: 'ok', reasons: [] });
  });

  it('is the worst severity: critical beats warning beats unknown beats info', () => {
    const base = vm([disk('virtio0'), disk('virtio1', { aio: 'native', cache: 'writeback', cacheDirect: false })]);
    expect(assessRisk(base, quietEvidence()).level).toBe('critical');
    const infoOnly = vm([disk('virtio0')]);
    expect(assessRisk(infoOnly, quietEvidence()).level).toBe('info');
    expect(assessRisk(infoOnly, quietEvidence({ nodeCpu: { unavailable: 'x' } })).level).toBe('unknown');
    expect(assessRisk(vm([disk('scsi0')]), quietEvidence({ nodeCpu: { unavailable: 'x' } })).level).toBe('warning');
  });

  it('lists reasons worst first, then by code, then disk in natural order', () => {
    const r = assessRisk(vm([disk('scsi10'), disk('scsi2', { iothread: true, iothreadEffective: false }), disk('virtio0')]), quietEvidence());
    expect(r.reasons.map((x) => `${x.severity} ${x.code} ${x.disk ?? ''}`)).toEqual([
      'warning MAIN_LOOP_IO scsi2',
      'warning MAIN_LOOP_IO scsi10',
      'warning IOTHREAD_IGNORED scsi2',
      'info MAIN_LOOP_IO virtio0',
    ]);
  });

  it('uses only documented codes', () => {
    const r = assessRisk(vm([disk('scsi0')], { status: 'unknown' }), {});
    for (const reason of r.reasons) expect(RISK_CODES).toContain(reason.code);
  });
});

describe('templates', () => {
  it('cap config reasons at info and skip runtime checks (a template never runs a guest)', () => {
    const r = assessRisk(vm([disk('scsi0'), disk('virtio0', { aio: 'native', cacheDirect: false })], { template: true, status: 'stopped' }), {});
    expect(r.level).toBe('info');
    expect(r.reasons.every((x) => x.severity === 'info')).toBe(true);
    expect(r.reasons.some((x) => x.code === 'NOT_CHECKED')).toBe(false);
    expect(r.reasons[0]!.message).toContain('Clones of this template inherit it.');
  });
});

describe('offline audit', () => {
  const noPkg = unavailable('pve-qemu-kvm version not given: pass --pve-qemu-version', 'offline');
  const offline = { throttles: {}, ramSnapshots: [], qemuVersion: '11.0.0', qmpTimeouts: OFFLINE, io: OFFLINE, nodeCpu: OFFLINE, backupJobs: OFFLINE, ha: OFFLINE, pveQemu: noPkg };

  it('still gives every config reason', () => {
    const r = assessRisk(vm([disk('scsi0', { iothread: true, iothreadEffective: false })], { status: 'unknown', source: '/etc/pve/qemu-server/100.conf' }), offline);
    const codes = new Set(r.reasons.map((x) => x.code));
    expect(codes).toContain('MAIN_LOOP_IO');
    expect(codes).toContain('IOTHREAD_IGNORED');
    expect(r.level).toBe('warning');
  });

  it('says which evidence was not available, and a clean VM is unknown, not ok', () => {
    const r = assessRisk(vm([singleIothread('scsi0')], { scsihw: single, status: 'unknown' }), offline);
    expect(r.level).toBe('unknown');
    expect(r.unavailable).toEqual([
      '/nodes/pve1/syslog: offline audit (files only): needs the PVE API',
      '/nodes/pve1/status: offline audit (files only): needs the PVE API',
      '/cluster/backup: offline audit (files only): needs the PVE API',
      '/nodes/pve1/apt/versions: pve-qemu-kvm version not given: pass --pve-qemu-version',
    ]);
    expect(r.reasons.every((x) => x.fix.includes('--pve'))).toBe(true);
  });

  it('jobs.cfg read offline replaces the unknown backup part', () => {
    const r = assessRisk(vm([singleIothread('scsi0')], { scsihw: single, status: 'unknown' }), {
      ...offline,
      backupJobs: [{ id: 'backup-all', fleecing: 'off', mode: 'snapshot', selection: 'all' }],
    });
    expect(r.reasons.find((x) => x.code === 'BACKUP_NO_FLEECING')?.severity).toBe('warning');
    expect(r.unavailable!.filter((u) => u.startsWith('/cluster/backup'))).toEqual([]);
    expect(r.unavailable).toHaveLength(3);
  });

  it('a job that leaves fleecing unset is unknown offline: /etc/vzdump.conf is not in /etc/pve', () => {
    const r = assessRisk(vm([singleIothread('scsi0')], { scsihw: single, status: 'unknown' }), {
      ...offline,
      backupJobs: [{ id: 'backup-all', fleecing: 'unset', mode: 'snapshot', selection: 'all', nodeDefaultFleecing: { unavailable: '/etc/vzdump.conf is not in /etc/pve', cause: 'offline' } }],
    });
    expect(r.reasons.some((x) => x.code === 'BACKUP_NO_FLEECING')).toBe(false);
    expect(r.level).toBe('unknown');
    expect(r.unavailable).toContain('/etc/vzdump.conf on pve1: /etc/vzdump.conf is not in /etc/pve');
  });

  it('for an unknown run state the pending change is reported as possibly not applied', () => {
    const r = assessRisk(vm([disk('scsi0', {}, { controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0', iothread: true })], { status: 'unknown' }), offline);
    const p = r.reasons.find((x) => x.code === 'PENDING_DATAPLANE')!;
    expect(p.severity).toBe('warning');
    expect(p.message).toContain('if the VM is running');
  });
});

describe('claims stay within their sources', () => {
  it('backup and RAM snapshot reasons never promise that an IO thread helps', () => {
    const r = assessRisk(
      vm([singleIothread('scsi0')], { scsihw: single }),
      quietEvidence({
        backupJobs: [{ id: 'b', fleecing: 'off', mode: 'snapshot', selection: 'all' }],
        ramSnapshots: [{ vmstate: 'nfs:vm-100-state-x', storage: 'nfs', storageType: 'nfs', network: true }],
      }),
    );
    for (const code of ['BACKUP_NO_FLEECING', 'RAM_SNAPSHOT_NETWORK_STORAGE']) {
      const x = r.reasons.find((y) => y.code === code)!;
      expect(x.fix).toMatch(/IO thread (on the disks )?does not/);
      expect(x.message).not.toMatch(/iothread=1|IO thread would/);
    }
  });

  it('MAIN_LOOP_IO says "can", never that a freeze will happen', () => {
    for (const x of assessRisk(vm([disk('scsi0'), disk('virtio0')]), quietEvidence()).reasons) {
      expect(x.message).toMatch(/\bcan\b/);
      expect(x.message).not.toMatch(/\bwill (freeze|stall)/);
    }
  });
});
