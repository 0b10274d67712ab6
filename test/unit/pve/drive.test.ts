// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import {
  DRIVE_KEYS,
  canonicalDriveString,
  driveFormat,
  driveOption,
  isDriveKey,
  isTrue,
  isValidDriveName,
  parseDrive,
  parseDriveKey,
  printDrive,
  volumeOwner,
  withDriveOptions,
  type Drive,
} from '../../../src/pve/index.js';

const errors = (d: Drive): string[] => d.issues.filter((i) => i.severity === 'error').map((i) => i.message);

describe('drive keys', () => {
  it('accepts exactly PVE keys', () => {
    expect(parseDriveKey('scsi30')).toEqual({ key: 'scsi30', kind: 'scsi', index: 30 });
    expect(parseDriveKey('unused255')).toEqual({ key: 'unused255', kind: 'unused', index: 255 });
    for (const bad of ['scsi31', 'ide4', 'sata6', 'virtio16', 'efidisk1', 'tpmstate1', 'unused256', 'scsi01', 'scsi', 'net0', 'SCSI0']) {
      expect(parseDriveKey(bad), bad).toBeNull();
    }
  });

  it('lists every key in PVE order: ide, scsi, virtio, sata, efidisk0, tpmstate0, unused', () => {
    expect(DRIVE_KEYS.length).toBe(4 + 31 + 16 + 6 + 1 + 1 + 256);
    expect(DRIVE_KEYS.slice(0, 5)).toEqual(['ide0', 'ide1', 'ide2', 'ide3', 'scsi0']);
    expect(DRIVE_KEYS.indexOf('virtio0')).toBe(35);
    expect(DRIVE_KEYS.indexOf('sata0')).toBe(51);
    expect(DRIVE_KEYS.slice(57, 60)).toEqual(['efidisk0', 'tpmstate0', 'unused0']);
    expect(DRIVE_KEYS.every(isDriveKey)).toBe(true);
    expect(isValidDriveName('unused0')).toBe(false);
    expect(isValidDriveName('efidisk0')).toBe(true);
  });
});

describe('per-bus option matrix (docs/how-qemu-server-decides.md#drive-keys)', () => {
  const matrix: [string, Record<string, boolean>][] = [
    ['iothread=1', { ide: false, sata: false, scsi: true, virtio: true }],
    ['ssd=1', { ide: true, sata: true, scsi: true, virtio: false }],
    ['wwn=0x0123456789abcdef', { ide: true, sata: true, scsi: true, virtio: false }],
    ['model=QEMU%20HD', { ide: true, sata: false, scsi: false, virtio: false }],
    ['ro=1', { ide: false, sata: false, scsi: true, virtio: true }],
    ['queues=4', { ide: false, sata: false, scsi: true, virtio: false }],
    ['product=ABC', { ide: false, sata: false, scsi: true, virtio: false }],
    ['vendor=XYZ', { ide: false, sata: false, scsi: true, virtio: false }],
    ['scsiblock=1', { ide: false, sata: false, scsi: true, virtio: false }],
    ['aio=threads', { ide: true, sata: true, scsi: true, virtio: true }],
    ['cache=writeback', { ide: true, sata: true, scsi: true, virtio: true }],
    ['discard=on', { ide: true, sata: true, scsi: true, virtio: true }],
    ['detect_zeroes=0', { ide: true, sata: true, scsi: true, virtio: true }],
    ['serial=ABC%2C1', { ide: true, sata: true, scsi: true, virtio: true }],
    ['mbps_rd=7', { ide: true, sata: true, scsi: true, virtio: true }],
  ];
  for (const [option, allowed] of matrix) {
    for (const [bus, ok] of Object.entries(allowed)) {
      it(`${option} on ${bus}: ${ok ? 'accepted' : 'rejected'}`, () => {
        const d = parseDrive(`${bus}0`, `local:vm-100-disk-0,${option}`);
        expect(errors(d).length === 0).toBe(ok);
        expect(printDrive(d)).toBe(`local:vm-100-disk-0,${option}`);
      });
    }
  }

  it('names key and sub-key for a rejected option', () => {
    const d = parseDrive('sata0', 'local-lvm:vm-100-disk-0,iothread=1,size=32G');
    expect(d.issues).toHaveLength(1);
    expect(d.issues[0]).toMatchObject({ key: 'sata0', subkey: 'iothread', severity: 'error' });
    expect(d.issues[0]!.message).toContain('sata0: invalid key in comma-separated list property: iothread');
    expect(d.issues[0]!.message).toContain("remove 'iothread'");
    expect(d.file).toBe('local-lvm:vm-100-disk-0');
  });

  it('efidisk0, tpmstate0 and unused have their own small formats', () => {
    expect(errors(parseDrive('efidisk0', 'local:vm-1-disk-0,efitype=4m,ms-cert=2023,pre-enrolled-keys=1,size=4M'))).toEqual([]);
    expect(errors(parseDrive('efidisk0', 'local:vm-1-disk-0,efitype=8m'))).toHaveLength(1);
    expect(errors(parseDrive('tpmstate0', 'local:vm-1-disk-0,size=4M,version=v2.0'))).toEqual([]);
    expect(errors(parseDrive('tpmstate0', 'local:vm-1-disk-0,format=qcow'))).toHaveLength(1);
    expect(errors(parseDrive('tpmstate0', 'local:vm-1-disk-0,cache=none'))).toHaveLength(1);
    expect(errors(parseDrive('unused0', 'rbd:vm-120-disk-0'))).toEqual([]);
    expect(errors(parseDrive('unused0', '/dev/sdb'))).toHaveLength(1);
    expect(errors(parseDrive('unused0', 'rbd:vm-120-disk-0,size=1G'))).toHaveLength(1);
  });

  it('import-from only in allocation mode', () => {
    expect(errors(parseDrive('scsi0', 'local-lvm:0,import-from=local:iso/x.qcow2'))).toHaveLength(1);
    expect(errors(parseDrive('scsi0', 'local-lvm:0,import-from=local:iso/x.qcow2', { alloc: true }))).toEqual([]);
    expect(Object.keys(driveFormat('scsi', { alloc: true }))).toContain('import-from');
  });
});

describe('parse_drive extra rejections (docs/how-qemu-server-decides.md#drive-keys)', () => {
  const rejected: [string, string, string][] = [
    ['ide2', 'local:iso/x.iso,media=cdrom,snapshot=1', 'snapshot'],
    ['ide2', 'local:iso/x.iso,media=cdrom,format=raw', 'format'],
    ['virtio0', 'local:iso/x.iso,media=cdrom', 'media'],
    ['scsi0', 'st:vm-1-disk-0,bps=1000,mbps=1', 'bps'],
    ['scsi0', 'st:vm-1-disk-0,mbps_max=10', 'mbps_max'],
    ['scsi0', 'st:vm-1-disk-0,iops_rd_max=10', 'iops_rd_max'],
    ['scsi0', 'st:vm-1-disk-0,iops=10,iops_max=20,iops_max_length=5,iops_wr=3', 'iops_wr'],
    ['scsi0', 'st:vm-1-disk-0,mbps_wr=10,bps_wr_max_length=3', 'bps_wr_max_length'],
    ['scsi0', 'st:vm-1-disk-0,mbps=10,mbps_rd=3', 'mbps_rd'],
  ];
  for (const [key, value, sub] of rejected) {
    it(`${key}: ${value}`, () => {
      const d = parseDrive(key, value);
      const issue = d.issues.find((i) => i.subkey === sub && i.severity === 'error');
      expect(issue, JSON.stringify(d.issues)).toBeDefined();
      expect(issue!.message).toContain('left off the QEMU command line');
      expect(printDrive(d)).toBe(value);
    });
  }

  it('accepts consistent throttles, a base given as legacy bps, and cdrom with snapshot=0', () => {
    expect(errors(parseDrive('scsi0', 'st:vm-1-disk-0,mbps_rd=7,mbps_rd_max=10,bps_rd_max_length=2'))).toEqual([]);
    expect(errors(parseDrive('scsi0', 'st:vm-1-disk-0,bps=1048576,mbps_max=10'))).toEqual([]);
    expect(errors(parseDrive('ide2', 'local:iso/x.iso,media=cdrom,snapshot=0'))).toEqual([]);
  });

  it('legacy geometry keys are accepted with a warning and dropped from the canonical form', () => {
    const d = parseDrive('ide0', 'local:vm-1-disk-0,cyls=10,heads=16,secs=63,trans=lba');
    expect(errors(d)).toEqual([]);
    expect(d.issues.filter((i) => i.severity === 'warning')).toHaveLength(4);
    expect(canonicalDriveString(d)).toBe('local:vm-1-disk-0');
  });
});

describe('drive fields', () => {
  it('storage, cdrom and file forms', () => {
    expect(parseDrive('scsi0', 'local-lvm:vm-100-disk-0').storage).toBe('local-lvm');
    expect(parseDrive('ide2', 'none,media=cdrom')).toMatchObject({ file: 'none', storage: null, isCdrom: true });
    expect(parseDrive('ide2', 'cdrom,media=cdrom').storage).toBeNull();
    expect(parseDrive('scsi1', '/dev/disk/by-id/ata-X,backup=no').storage).toBeNull();
    expect(parseDrive('sata0', 'p2b:iso/x.iso,media=disk').isCdrom).toBe(false);
  });

  it('recognises cloud-init volumes (docs/how-qemu-server-decides.md#drive-keys), with the vmid when given', () => {
    expect(parseDrive('ide2', 'lvm:vm-120-cloudinit,media=cdrom').isCloudinit).toBe(true);
    expect(parseDrive('ide2', 'local:100/vm-100-cloudinit.qcow2,media=cdrom', { vmid: 100 }).isCloudinit).toBe(true);
    expect(parseDrive('ide2', 'local:100/vm-100-cloudinit.qcow2,media=cdrom', { vmid: 101 }).isCloudinit).toBe(false);
    expect(parseDrive('scsi1', 'local:cloudinit').isCloudinit).toBe(true);
    expect(parseDrive('scsi1', 'local:vm-100-cloudinit.iso').isCloudinit).toBe(false);
    expect(parseDrive('scsi1', 'local:vm-100-disk-cloudinit-x').isCloudinit).toBe(false);
  });

  it('never throws, even on nonsense', () => {
    for (const v of ['', ',', '=', '==,=', 'a=b=c,,,=', '\u0000,\uffff']) {
      const d = parseDrive('scsi0', v);
      expect(printDrive(d)).toBe(v);
      expect(errors(d).length).toBeGreaterThan(0);
    }
    const bad = parseDrive('scsi99', 'local:vm-1-disk-0');
    expect(bad.kind).toBe('scsi');
    expect(errors(bad)[0]).toContain('not a valid drive key');
  });

  it('driveOption and isTrue read options as PVE does', () => {
    const d = parseDrive('scsi0', 'volume=st:vm-1-disk-0,iothread=on,ssd=No');
    expect(driveOption(d, 'file')).toBe('st:vm-1-disk-0');
    expect(isTrue(driveOption(d, 'iothread'))).toBe(true);
    expect(isTrue(driveOption(d, 'ssd'))).toBe(false);
    expect(isTrue(driveOption(d, 'ro'))).toBe(false);
    expect(isTrue('TRUE')).toBe(true);
    expect(isTrue('2')).toBe(false);
  });
});

describe('canonicalDriveString (PVE print_drive)', () => {
  it('file first, keys sorted, booleans 1/0, sizes re-printed', () => {
    const d = parseDrive('scsi0', 'local:8006/vm-8006-disk-9.raw,discard=on,size=104858K,cache=writeback,aio=io_uring,iothread=on,backup=no');
    expect(canonicalDriveString(d)).toBe('local:8006/vm-8006-disk-9.raw,aio=io_uring,backup=0,cache=writeback,discard=on,iothread=1,size=104858K');
    expect(canonicalDriveString(parseDrive('scsi0', 'volume=st:vm-1-disk-0,size=2048M'))).toBe('st:vm-1-disk-0,size=2G');
  });

  it('converts legacy bps* to mbps* with %.3f', () => {
    expect(canonicalDriveString(parseDrive('scsi0', 'st:vm-1-disk-0,bps_rd=1572864'))).toBe('st:vm-1-disk-0,mbps_rd=1.500');
    // 65536 B/s = 0.0625 MB/s: an exact tie, which C's printf rounds to even.
    expect(canonicalDriveString(parseDrive('scsi0', 'st:vm-1-disk-0,bps=65536'))).toBe('st:vm-1-disk-0,mbps=0.062');
  });
});

describe('withDriveOptions', () => {
  it('changes options in place, appends new ones and re-reads the drive', () => {
    const d = parseDrive('scsi0', 'local-lvm:vm-100-disk-0,cache=writeback,iothread=0,size=32G');
    const changed = withDriveOptions(d, { iothread: '1', aio: 'threads', cache: null });
    expect(printDrive(changed)).toBe('local-lvm:vm-100-disk-0,iothread=1,size=32G,aio=threads');
    expect(isTrue(driveOption(changed, 'iothread'))).toBe(true);
    expect(printDrive(d)).toBe('local-lvm:vm-100-disk-0,cache=writeback,iothread=0,size=32G');
  });
});

describe('volumeOwner (storage parse_volname)', () => {
  it('finds the owning VM from the volume name', () => {
    expect(volumeOwner('local-lvm:vm-101-disk-1')).toBe(101);
    expect(volumeOwner('local:100/vm-100-disk-0.qcow2')).toBe(100);
    expect(volumeOwner('rbd:base-9000-disk-0/vm-101-disk-0')).toBe(101);
    expect(volumeOwner('local:9000/base-9000-disk-0.qcow2/101/vm-101-disk-0.qcow2')).toBe(101);
    expect(volumeOwner('local-zfs:subvol-105-disk-0')).toBe(105);
    expect(volumeOwner('local:iso/debian.iso')).toBeNull();
    expect(volumeOwner('/dev/sdb')).toBeNull();
    expect(volumeOwner('none')).toBeNull();
  });
});
