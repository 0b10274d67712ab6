// SPDX-License-Identifier: AGPL-3.0-or-later
/** The version-aware rules: the node's pve-qemu-kvm build decides the io_uring, TMF, PSI and snapshot reasons. */
import { describe, expect, it } from 'vitest';
import { assessRisk, type RiskEvidenceInput, unavailable } from '../../../src/analysis/risk/index.js';
import { recogniseFreeBsd } from '../../../src/analysis/risk/guest-os.js';
import { disk, quietEvidence, singleIothread, vm } from './build.js';

const single = { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' };
const pkg = (version: string, extra: RiskEvidenceInput = {}) => quietEvidence({ pveQemu: { version, source: '/nodes/pve1/apt/versions' }, qemuVersion: version.replace(/-.*/, ''), ...extra });
const codes = (r: ReturnType<typeof assessRisk>) => r.reasons.map((x) => x.code);

describe('PVE_QEMU_IO_URING_HANG', () => {
  const uring = vm([singleIothread('scsi0'), singleIothread('scsi1', { aio: 'threads' })], { scsihw: single });

  it('flags each disk running io_uring on 10.1.2-4, with both fixes, and not the aio=threads disk', () => {
    const r = assessRisk(uring, pkg('10.1.2-4'));
    const hang = r.reasons.filter((x) => x.code === 'PVE_QEMU_IO_URING_HANG');
    expect(hang.map((x) => x.disk)).toEqual(['scsi0']);
    expect(hang[0]!.severity).toBe('warning');
    expect(hang[0]!.fix).toMatch(/pve-qemu-kvm to 10\.1\.2-5 or later/);
    expect(hang[0]!.fix).toMatch(/aio=threads on scsi0/);
    expect(hang[0]!.evidence.map((e) => e.value)).toContain('pve-qemu-kvm 10.1.2-4 (/nodes/pve1/apt/versions)');
  });

  it.each(['10.1.2-5', '10.1.2-10', '10.2.1-1', '11.0.0-2'])('is silent on %s (fixed, compared as dpkg does)', (v) => {
    expect(codes(assessRisk(uring, pkg(v)))).not.toContain('PVE_QEMU_IO_URING_HANG');
  });

  it('a running VM started before the update runs the old QEMU: "may be" for the same upstream, yes for an older one', () => {
    const running = (qemu: string) => assessRisk(uring, pkg('10.2.1-2', { qemuVersion: qemu })).reasons.find((x) => x.code === 'PVE_QEMU_IO_URING_HANG');
    expect(running('10.1.2')?.message).toMatch(/that may be older than pve-qemu-kvm 10\.1\.2-5/);
    expect(running('10.0.2')?.message).toMatch(/on a QEMU build older than/);
    expect(running('10.0.2')?.evidence.map((e) => e.value).join()).toMatch(/runs QEMU 10\.0\.2, started before pve-qemu-kvm 10\.2\.1-2/);
  });

  it('without the package version: NOT_CHECKED once, naming apt/versions, and an offline fix naming --pve-qemu-version', () => {
    const r = assessRisk(uring, quietEvidence({ pveQemu: unavailable('pve-qemu-kvm version not given', 'offline') }));
    const nc = r.reasons.filter((x) => x.code === 'NOT_CHECKED');
    expect(nc).toHaveLength(1);
    expect(nc[0]!.evidence[0]!.label).toBe('/nodes/pve1/apt/versions');
    expect(nc[0]!.fix).toMatch(/--pve-qemu-version/);
    expect(r.level).toBe('unknown');
  });
});

describe('PVE_QEMU_TMF_DEADLOCK', () => {
  const pfsense = vm([disk('scsi0', { controller: 'virtio-scsi-pci' })], { name: 'fw1-pfsense', ostype: 'other' });

  it('flags a FreeBSD guest on VirtIO SCSI on 10.1.0-1, saying the recognition is a heuristic', () => {
    const r = assessRisk(pfsense, pkg('10.1.0-1'));
    const tmf = r.reasons.find((x) => x.code === 'PVE_QEMU_TMF_DEADLOCK')!;
    expect(tmf.severity).toBe('warning');
    expect(tmf.message).toMatch(/probably a FreeBSD guest \(heuristic: name 'fw1-pfsense'/);
    expect(tmf.fix).toMatch(/10\.1\.2-1 or later/);
  });

  it.each([
    ['fixed build', pfsense, pkg('10.1.2-1')],
    ['QEMU 9.2 (before the regression)', pfsense, pkg('9.2.0-5')],
    ['not on VirtIO SCSI', vm([disk('scsi0')], { name: 'fw1-pfsense', ostype: 'other' }), pkg('10.0.2-4')],
    ['ostype names Linux', vm([disk('scsi0', { controller: 'virtio-scsi-pci' })], { name: 'pfsense-exporter', ostype: 'l26' }), pkg('10.0.2-4')],
    ['the agent says Debian', pfsense, pkg('10.0.2-4', { guestOs: { id: 'debian', name: 'Debian GNU/Linux' } })],
  ] as const)('is silent: %s', (_name, v, ev) => {
    expect(codes(assessRisk(v, ev))).not.toContain('PVE_QEMU_TMF_DEADLOCK');
  });

  it('the guest agent recognises FreeBSD whatever the name, and says so', () => {
    const plain = vm([disk('scsi0', { controller: 'virtio-scsi-pci' })], { name: 'router', ostype: null });
    const r = assessRisk(plain, pkg('10.0.2-4', { guestOs: { id: 'freebsd', name: 'FreeBSD' } }));
    expect(r.reasons.find((x) => x.code === 'PVE_QEMU_TMF_DEADLOCK')?.message).toMatch(/a FreeBSD guest \(guest agent: get-osinfo id=freebsd\)/);
    expect(codes(assessRisk(plain, pkg('10.0.2-4')))).not.toContain('PVE_QEMU_TMF_DEADLOCK');
  });

  it('recognises by tag, and by the kernel version FreeBSD reports without os-release', () => {
    expect(recogniseFreeBsd({ ostype: 'other', name: 'edge' }, { tags: ['prod', 'opnsense'], agent: false }, undefined)).toEqual({ basis: 'heuristic', detail: "tag 'opnsense'" });
    expect(recogniseFreeBsd({ ostype: 'other', name: 'x' }, undefined, { kernelVersion: 'FreeBSD 14.1-RELEASE releng/14.1-n267679' })?.basis).toBe('guest agent');
  });
});

describe('IO_PRESSURE_MISREAD', () => {
  const iot = vm([singleIothread('scsi0', { aio: 'threads' })], { scsihw: single });
  it.each([
    ['10.2.1-1', true],
    ['10.2.0-1', true],
    ['10.2.1-2', false],
    ['10.1.2-7', false],
  ] as const)('%s with an IO thread: note %s', (v, want) => {
    expect(codes(assessRisk(iot, pkg(v))).includes('IO_PRESSURE_MISREAD')).toBe(want);
  });
  it('not without an IO thread, and never a NOT_CHECKED of its own', () => {
    expect(codes(assessRisk(vm([disk('scsi0', { aio: 'threads' })]), pkg('10.2.1-1')))).not.toContain('IO_PRESSURE_MISREAD');
    const r = assessRisk(iot, quietEvidence({ pveQemu: unavailable('x', 'error') }));
    expect(codes(r)).toEqual([]);
  });
});

describe('RAM_SNAPSHOT_NETWORK_STORAGE by build', () => {
  const snaps = { ramSnapshots: [{ vmstate: 'nfs1:100/vm-100-state-a.raw', storage: 'nfs1', storageType: 'nfs', network: true }] };
  const sev = (ev: RiskEvidenceInput) => assessRisk(vm([singleIothread('scsi0', { aio: 'threads' })], { scsihw: single }), ev).reasons.find((x) => x.code === 'RAM_SNAPSHOT_NETWORK_STORAGE');
  it('9.2.0-3 still writes from the main loop (warning); 9.2.0-4 does not (info)', () => {
    expect(sev(pkg('9.2.0-3', snaps))?.severity).toBe('warning');
    expect(sev(pkg('9.2.0-4', snaps))?.severity).toBe('info');
  });
  it('without the package: QEMU 9.2.0 "may", 9.1 yes, 10.0 no', () => {
    const noPkg = (q: string) => quietEvidence({ ...snaps, qemuVersion: q, pveQemu: unavailable('x', 'offline') });
    expect(sev(noPkg('9.2.0'))?.message).toMatch(/may still write it from the main loop/);
    expect(sev(noPkg('9.1.2'))?.severity).toBe('warning');
    expect(sev(noPkg('10.0.2'))?.severity).toBe('info');
  });
});

describe('WINDOWS_VBS_INTEL', () => {
  const qmp = { count: 3, windowHours: 24, commands: { 'query-proxmox-support': 3 }, samples: [], truncated: false };
  const win = (machine: string) => vm([singleIothread('scsi0', { aio: 'threads' })], { scsihw: single, ostype: 'win11', machine: { configured: null, version: machine, type: 'q35', blockdev: true, basis: 'running' } });
  const cpu = (vendor?: string) => ({ node: 'pve1', hostCpus: 32, runningVcpus: 16, vmVcpus: 4, ...(vendor ? { vendor } : {}) });
  it('QMP timeouts on win11, Intel, machine 10.1: the IO thread is not the only suspect', () => {
    const r = assessRisk(win('10.1+pve0'), pkg('11.0.0-2', { qmpTimeouts: qmp, nodeCpu: cpu('GenuineIntel') }));
    const vbs = r.reasons.find((x) => x.code === 'WINDOWS_VBS_INTEL')!;
    expect(vbs.message).toMatch(/the IO thread is not the only suspect/);
    expect(vbs.fix).toMatch(/11\.0\+pve2/);
  });
  it.each([
    ['machine 11.0+pve2 has the workaround', win('11.0+pve2'), cpu('GenuineIntel'), qmp],
    ['AMD host', win('10.1'), cpu('AuthenticAMD'), qmp],
    ['no QMP timeouts', win('10.1'), cpu('GenuineIntel'), { ...qmp, count: 0 }],
  ] as const)('silent: %s', (_n, v, c, q) => {
    expect(codes(assessRisk(v, pkg('11.0.0-2', { qmpTimeouts: q, nodeCpu: c })))).not.toContain('WINDOWS_VBS_INTEL');
  });
  it('vendor unknown: fires, conditional on Intel', () => {
    const r = assessRisk(win('10.1'), pkg('11.0.0-2', { qmpTimeouts: qmp, nodeCpu: cpu() }));
    expect(r.reasons.find((x) => x.code === 'WINDOWS_VBS_INTEL')?.message).toMatch(/this applies if it is Intel/);
  });
});
