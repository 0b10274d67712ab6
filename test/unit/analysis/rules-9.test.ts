// SPDX-License-Identifier: AGPL-3.0-or-later
/** docs/how-qemu-server-decides.md: the rules verified against real qemu-server 9.2.6 (they override docs/how-qemu-server-decides.md–§8). */
import { notesOf } from '../../../src/present/deviations.js';
import { describe, expect, it } from 'vitest';
import { analyzeVm } from '../../../src/audit/index.js';
import { ENV, facts, vmInput } from './helpers.js';

const DISK = 'local:100/vm-100-disk-0.qcow2';

describe('templates', () => {
  it('run the default i440fx at the installed QEMU: machine, ostype and meta are dropped', () => {
    const vm = analyzeVm(
      vmInput({ template: '1', machine: 'pc-q35-8.1', ostype: 'win10', ide1: DISK, sata0: DISK, scsi0: DISK, scsihw: 'virtio-scsi-single' }),
      ENV,
    );
    expect(vm.template).toBe(true);
    expect([vm.machine.type, vm.machine.version, vm.machine.blockdev]).toEqual(['i440fx', '11.0+pve2', true]);
    const byKey = Object.fromEntries(vm.disks.map((d) => [d.key, d]));
    // IDE on the i440fx built-in controller (not ich9-ahci), and ide-cd; SATA too.
    expect([byKey.ide1!.controller, byKey.ide1!.qemuDevice]).toEqual(['ide', 'ide-cd']);
    expect([byKey.sata0!.controller, byKey.sata0!.qemuDevice]).toEqual(['ahci', 'ide-cd']);
    // A disk medium stays direct: only media=cdrom counts for the cache.
    expect(byKey.sata0!.cacheDirect).toBe(true);
    // SCSI keeps scsihw and its frontend.
    expect([byKey.scsi0!.qemuDevice, byKey.scsi0!.controllerId]).toEqual(['scsi-hd', 'virtioscsi0']);
  });
});

describe('machine version of an unpinned Windows VM', () => {
  it('is pinned at start to 5.1 (so -drive), or to meta creation-qemu when >= 9.1', () => {
    expect(facts('scsi0', 'librbd:vm-100-disk-0', { ostype: 'win10' }).aio.effective).toBe('io_uring');
    expect(facts('scsi0', 'librbd:vm-100-disk-0', { ostype: 'win11', meta: 'creation-qemu=9.0.2,ctime=1' }).aio.effective).toBe('io_uring');
    expect(facts('scsi0', 'librbd:vm-100-disk-0', { ostype: 'win11', meta: 'creation-qemu=10.0.2,ctime=1' }).aio.effective).toBeNull();
    expect(facts('scsi0', 'librbd:vm-100-disk-0', { ostype: 'l26' }).aio.effective).toBeNull();
  });

  it('falls back to the installed version when the binary cannot run the creation version', () => {
    const vm = analyzeVm(vmInput({ ostype: 'win11', meta: 'creation-qemu=12.1.0,ctime=1', machine: 'q35' }), ENV);
    expect([vm.machine.type, vm.machine.version]).toEqual(['q35', '11.0+pve0']);
    expect(vm.machine.basis).toContain('cannot run');
  });
});

describe('scsi-block / scsi-generic passthrough', () => {
  it('is scsi-hd offline, with a note that scsiblock=1 makes it scsi-block on the node', () => {
    const f = facts('scsi0', '/dev/sdg,scsiblock=1,size=32G');
    expect(f.qemuDevice).toBe('scsi-hd');
    expect(notesOf(f).some((n) => n.includes('scsi-block'))).toBe(true);
    expect(notesOf(facts('scsi1', '/dev/disk/by-id/scsi-SATA_x')).some((n) => n.includes('tape'))).toBe(true);
  });
});

describe('iSCSI volumes and machine < 4.1', () => {
  it('SCSI disks on iscsidirect or ZFS over iSCSI become scsi-generic below 4.1', () => {
    expect(facts('scsi0', 'iscsidirect:0.0.1.scsi-x', { machine: 'pc-i440fx-4.0' }).qemuDevice).toBe('scsi-generic');
    expect(facts('scsi0', 'zfs-iscsi:vm-100-disk-0', { machine: 'pc-q35-3.1' }).qemuDevice).toBe('scsi-generic');
    expect(facts('scsi0', 'zfs-iscsi:vm-100-disk-0', { machine: 'pc-q35-4.1' }).qemuDevice).toBe('scsi-hd');
    // Kernel iSCSI gives a /dev path: not affected.
    expect(facts('scsi0', 'iscsi:0.0.1.scsi-x', { machine: 'pc-i440fx-4.0' }).qemuDevice).toBe('scsi-hd');
  });
});

describe('none volumes, taken as written', () => {
  it('ide/sata none without media=cdrom is an ide-hd without medium', () => {
    const f = facts('sata0', 'none');
    expect([f.qemuDevice, f.aio.effective, f.cacheDirect, f.startError]).toEqual(['ide-hd', null, null, null]);
  });
  it('virtio none is a valid virtio-blk-pci without medium', () => {
    const f = facts('virtio0', 'none,iothread=1');
    expect([f.qemuDevice, f.iothread.effective, f.cacheDirect, f.startError]).toEqual(['virtio-blk-pci', true, null, null]);
  });
  it('scsi none without media=cdrom stops the VM from starting; with media=cdrom it is a scsi-cd', () => {
    expect(facts('scsi0', 'none').startError).toContain('needs media=cdrom');
    const cd = facts('scsi0', 'none,media=cdrom');
    expect([cd.qemuDevice, cd.startError]).toEqual(['scsi-cd', null]);
  });
});

describe('cloud-init', () => {
  it('counts as a CD only for the SCSI frontend; IDE/SATA and cache look at media=cdrom only', () => {
    const scsi = facts('scsi1', 'lvmthin:vm-100-cloudinit');
    expect([scsi.qemuDevice, scsi.cacheDirect]).toEqual(['scsi-cd', true]);
    const ide = facts('ide0', 'local:100/vm-100-cloudinit.qcow2');
    expect([ide.qemuDevice, ide.cacheDirect]).toEqual(['ide-hd', true]);
    const usual = facts('ide2', 'local:100/vm-100-cloudinit.qcow2,media=cdrom');
    expect([usual.qemuDevice, usual.cacheDirect]).toEqual(['ide-cd', false]);
  });
});

describe('invalid values', () => {
  it('an unknown scsihw is the controller driver verbatim: 256 disks share scsihw0, no iothread', () => {
    const f = facts('scsi20', `${DISK},iothread=1`, { scsihw: 'virtio-scsi' });
    expect([f.controller, f.controllerId, f.iothread.effective]).toEqual(['virtio-scsi', 'scsihw0', false]);
    expect(notesOf(f).some((n) => n.includes('verbatim'))).toBe(true);
  });

  it('a drive that parse_drive rejects stays in the file but is left off the command line', () => {
    const vm = analyzeVm(vmInput({ ide2: 'local:iso/x.iso,media=cdrom,snapshot=1', virtio1: 'local:iso/y.iso,media=cdrom' }, { lines: { current: { ide2: 3, virtio1: 4 }, pending: {} } }), ENV);
    for (const d of vm.disks) {
      expect([d.key, d.qemuDevice, d.controller, d.aio.effective]).toEqual([d.key, null, null, null]);
      expect(notesOf(d)[0]).toMatch(/^not given to QEMU: /);
    }
    expect(vm.issues.map((i) => [i.key, i.line, i.severity])).toEqual([
      ['ide2', 3, 'error'],
      ['virtio1', 4, 'error'],
    ]);
  });

  it('a drive the schema rejects (iothread on sata) is dropped by PVE: reported, never attached', () => {
    const vm = analyzeVm(vmInput({ sata0: `${DISK},iothread=1` }, { lines: { current: { sata0: 7 }, pending: {} } }), ENV);
    expect(vm.disks[0]!.qemuDevice).toBeNull();
    expect(vm.issues[0]).toMatchObject({ source: '100.conf', line: 7, key: 'sata0', severity: 'error' });
    expect(vm.issues[0]!.message).toContain('iothread');
  });
});

describe('drive file values', () => {
  it('`cdrom` (host drive), /dev paths and plain file paths all take an aio mode', () => {
    expect(facts('ide2', 'cdrom,media=cdrom').aio.effective).toBe('io_uring');
    expect(facts('scsi0', '/dev/disk/by-id/ata-x').aio.effective).toBe('io_uring');
    expect(facts('virtio0', '/var/lib/images/x.raw').aio.effective).toBe('io_uring');
  });
});

describe('where aio exists under -blockdev, by the storage path', () => {
  it('a third-party storage type is assumed to give a file or /dev path, and says so', () => {
    const f = facts('scsi0', 'pure:vm-100-disk-0');
    expect(f.aio.effective).toBe('io_uring');
    expect(notesOf(f).some((n) => n.includes("storage type 'purestorage' is not built in"))).toBe(true);
  });
  it('an unknown storage id stops the start and is reported with file, line and key', () => {
    const vm = analyzeVm(vmInput({ scsi0: 'nosuch:vm-100-disk-0' }, { lines: { current: { scsi0: 5 }, pending: {} } }), ENV);
    expect(vm.disks[0]!.startError).toContain("storage 'nosuch' does not exist");
    expect(vm.issues).toEqual([
      expect.objectContaining({ source: '100.conf', line: 5, key: 'scsi0', severity: 'error', message: expect.stringContaining("storage 'nosuch' is not defined in storage.cfg") }),
    ]);
  });
});

describe('drives that sit on no controller', () => {
  it('efidisk0, tpmstate0 and unusedN are not in disks', () => {
    const vm = analyzeVm(
      vmInput({ efidisk0: 'lvmthin:vm-100-disk-1,efitype=4m,size=4M', tpmstate0: 'lvmthin:vm-100-disk-2,version=v2.0', unused0: 'lvmthin:vm-100-disk-3', scsi0: DISK }),
      ENV,
    );
    expect(vm.disks.map((d) => d.key)).toEqual(['scsi0']);
  });
});
