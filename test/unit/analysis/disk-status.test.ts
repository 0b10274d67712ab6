// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * docs/how-qemu-server-decides.md table A (controller and iothread) and table B (effective aio, cache direct), row by
 * row, plus the start errors. docs/how-qemu-server-decides.md rules are in rules-9.test.ts.
 */
import { notesOf } from '../../../src/present/deviations.js';
import { describe, expect, it } from 'vitest';
import { facts } from './helpers.js';

const DISK = 'local:100/vm-100-disk-0.qcow2';

describe('A: controller and iothread', () => {
  it('ide on i440fx: built-in IDE, bus idx div 2, never an iothread', () => {
    const ids = [0, 1, 2, 3].map((i) => facts(`ide${i}`, DISK));
    expect(ids.map((f) => f.controller)).toEqual(['ide', 'ide', 'ide', 'ide']);
    expect(ids.map((f) => f.controllerId)).toEqual(['ide.0', 'ide.0', 'ide.1', 'ide.1']);
    expect(ids.map((f) => f.qemuDevice)).toEqual(['ide-hd', 'ide-hd', 'ide-hd', 'ide-hd']);
    expect(ids.every((f) => !f.iothread.effective && !f.iothread.configured)).toBe(true);
  });

  it('ide on q35: ich9-ahci, unit 0 only, odd indices moved up by two buses', () => {
    const ids = [0, 1, 2, 3].map((i) => facts(`ide${i}`, DISK, { machine: 'q35' }));
    expect(ids.map((f) => f.controller)).toEqual(['ich9-ahci', 'ich9-ahci', 'ich9-ahci', 'ich9-ahci']);
    expect(ids.map((f) => f.controllerId)).toEqual(['ide.0', 'ide.2', 'ide.1', 'ide.3']);
    expect(facts('ide1', DISK, { machine: 'pc-q35-8.1' }).controllerId).toBe('ide.2');
  });

  it('ide cdrom is ide-cd', () => {
    expect(facts('ide2', 'local:iso/x.iso,media=cdrom').qemuDevice).toBe('ide-cd');
  });

  it('sata: ahci0 for every index, never an iothread', () => {
    for (let i = 0; i < 6; i++) {
      const f = facts(`sata${i}`, DISK);
      expect([f.controller, f.controllerId, f.qemuDevice, f.iothread.effective]).toEqual(['ahci', 'ahci0', 'ide-hd', false]);
    }
    expect(facts('sata1', 'local:iso/x.iso,media=cdrom').qemuDevice).toBe('ide-cd');
  });

  it('virtio: its own PCI device (controller null), iothread iff iothread=1', () => {
    const on = facts('virtio3', `${DISK},iothread=1`);
    expect([on.qemuDevice, on.controller, on.controllerId, on.iothread]).toEqual([
      'virtio-blk-pci',
      null,
      null,
      { configured: true, effective: true },
    ]);
    expect(facts('virtio0', DISK).iothread).toEqual({ configured: false, effective: false });
    expect(facts('virtio0', `${DISK},iothread=0`).iothread).toEqual({ configured: false, effective: false });
    // Drive values are kept verbatim (docs/how-qemu-server-decides.md#drive-keys); `on` is still true.
    expect(facts('virtio0', `${DISK},iothread=on`).iothread.effective).toBe(true);
    // Independent of scsihw.
    expect(facts('virtio0', `${DISK},iothread=1`, { scsihw: 'lsi' }).iothread.effective).toBe(true);
  });

  it.each([
    [undefined, 'lsi'],
    ['lsi', 'lsi'],
    ['lsi53c810', 'lsi53c810'],
  ])('scsi with scsihw %s: %s, 7 disks per controller scsihw<idx div 7>, iothread ignored', (scsihw, name) => {
    const ids = [0, 6, 7, 13, 14, 20, 21, 28, 30].map((i) => facts(`scsi${i}`, `${DISK},iothread=1`, { scsihw }));
    expect(ids.map((f) => f.controller)).toEqual(Array(9).fill(name));
    expect(ids.map((f) => f.controllerId)).toEqual([
      'scsihw0',
      'scsihw0',
      'scsihw1',
      'scsihw1',
      'scsihw2',
      'scsihw2',
      'scsihw3',
      'scsihw4',
      'scsihw4',
    ]);
    for (const f of ids) {
      expect(f.iothread).toEqual({ configured: true, effective: false });
      expect(notesOf(f)).toContain(`iothread=1 ignored: scsihw ${name}`);
    }
  });

  it.each(['megasas', 'pvscsi', 'virtio-scsi-pci'])('scsi with scsihw %s: one controller scsihw0 for all, iothread ignored', (scsihw) => {
    for (const i of [0, 7, 16, 30]) {
      const f = facts(`scsi${i}`, `${DISK},iothread=1`, { scsihw });
      expect([f.controller, f.controllerId, f.qemuDevice]).toEqual([scsihw, 'scsihw0', 'scsi-hd']);
      expect(f.iothread).toEqual({ configured: true, effective: false });
      expect(notesOf(f)).toContain(`iothread=1 ignored: scsihw ${scsihw}`);
    }
  });

  it('scsi with virtio-scsi-single: one virtio-scsi-pci per disk (virtioscsi<idx>), iothread iff iothread=1', () => {
    const on = facts('scsi5', `${DISK},iothread=1`, { scsihw: 'virtio-scsi-single' });
    expect([on.controller, on.controllerId, on.iothread]).toEqual(['virtio-scsi-pci', 'virtioscsi5', { configured: true, effective: true }]);
    expect(notesOf(on).some((n) => n.includes('ignored'))).toBe(false);
    const off = facts('scsi30', DISK, { scsihw: 'virtio-scsi-single' });
    expect([off.controllerId, off.iothread.effective]).toEqual(['virtioscsi30', false]);
    // Per controller, so it also applies to a SCSI CD-ROM.
    const cd = facts('scsi2', 'local:iso/x.iso,media=cdrom,iothread=1', { scsihw: 'virtio-scsi-single' });
    expect([cd.qemuDevice, cd.iothread.effective]).toEqual(['scsi-cd', true]);
  });

  it('scsi frontends: scsi-hd by default, scsi-cd for cdroms and cloud-init', () => {
    expect(facts('scsi0', DISK).qemuDevice).toBe('scsi-hd');
    expect(facts('scsi0', 'local:iso/x.iso,media=cdrom').qemuDevice).toBe('scsi-cd');
    expect(facts('scsi1', 'local-lvm:vm-100-cloudinit,media=cdrom'.replace('local-lvm', 'lvmthin')).qemuDevice).toBe('scsi-cd');
  });
});

describe('B: effective aio and cache direct', () => {
  it('1. file=none: no block node, aio and cacheDirect null', () => {
    for (const [key, value] of [
      ['ide2', 'none,media=cdrom'],
      ['sata0', 'none,media=cdrom'],
      ['scsi0', 'none,media=cdrom'],
      ['virtio0', 'none'],
    ] as const) {
      const f = facts(key, value);
      expect([f.aio.effective, f.cacheDirect]).toEqual([null, null]);
    }
    // Also under -drive, and with an explicit aio.
    const old = facts('ide2', 'none,media=cdrom,aio=native', { machine: 'pc-q35-3.1' });
    expect([old.aio.effective, old.cacheDirect]).toEqual([null, null]);
  });

  it('2. direct: cache none/directsync are direct, writethrough/writeback/unsafe are not', () => {
    const direct = (cache: string) => facts('scsi0', `${DISK},cache=${cache}`).cacheDirect;
    expect(['none', 'directsync', 'writethrough', 'writeback', 'unsafe'].map(direct)).toEqual([true, true, false, false, false]);
  });

  it('2. direct: unset cache is direct except for media=cdrom and btrfs without nocow', () => {
    expect(facts('scsi0', DISK).cacheDirect).toBe(true);
    expect(facts('ide2', 'local:iso/x.iso,media=cdrom').cacheDirect).toBe(false);
    expect(facts('scsi0', 'btrfs:100/vm-100-disk-0.raw').cacheDirect).toBe(false);
    expect(facts('scsi0', 'btrfs-nocow:100/vm-100-disk-0.raw').cacheDirect).toBe(true);
    expect(facts('scsi0', 'btrfs:100/vm-100-disk-0.raw,cache=none').cacheDirect).toBe(true);
    expect(notesOf(facts('scsi0', 'btrfs:100/vm-100-disk-0.raw'))).toContain('cache default → not direct (btrfs without nocow)');
  });

  it('3. machine >= 10.0 and a non-file driver: no aio at all (librbd, iscsidirect, ZFS over iSCSI, pbs)', () => {
    for (const volume of ['librbd:vm-100-disk-0', 'iscsidirect:0.0.1.scsi-xyz', 'zfs-iscsi:vm-100-disk-0', 'pbs:backup/vm/100/x']) {
      const f = facts('scsi0', volume);
      expect([volume, f.aio.effective, f.cacheDirect]).toEqual([volume, null, true]);
    }
    const explicit = facts('scsi0', 'librbd:vm-100-disk-0,aio=native,cache=writeback');
    expect(explicit.aio).toEqual({ configured: 'native', effective: null });
    expect(notesOf(explicit)).toContain('aio=native ignored: librbd gets no aio under -blockdev');
    expect(explicit.startError).toBeNull();
  });

  it('3. machine >= 10.0 with a file or block device: aio applies (krbd, lvm, zfspool, kernel iSCSI, paths)', () => {
    for (const volume of ['krbd:vm-100-disk-0', 'lvmthin:vm-100-disk-0', 'zfspool:vm-100-disk-0', 'iscsi:0.0.1.scsi-x', '/dev/sdb', '/srv/img.raw', 'nfs:100/vm-100-disk-0.qcow2']) {
      expect([volume, facts('scsi0', volume).aio.effective]).toEqual([volume, 'io_uring']);
    }
  });

  it('4. an explicit aio is used verbatim, on any storage', () => {
    expect(facts('scsi0', `${DISK},aio=threads`).aio).toEqual({ configured: 'threads', effective: 'threads' });
    expect(facts('scsi0', 'lvm:vm-100-disk-0,aio=io_uring').aio.effective).toBe('io_uring');
    expect(facts('scsi0', 'cifs:100/vm-100-disk-0.raw,aio=io_uring').aio.effective).toBe('io_uring');
    expect(facts('scsi0', 'krbd:vm-100-disk-0,cache=writeback,aio=io_uring').aio.effective).toBe('io_uring');
    expect(facts('scsi0', `${DISK},aio=native`).aio.effective).toBe('native');
  });

  it('4. aio=native without O_DIRECT is a start failure', () => {
    const f = facts('scsi0', `${DISK},aio=native,cache=writeback`);
    expect(f.aio.effective).toBe('native');
    expect(f.startError).toContain('aio=native was specified, but it requires cache.direct=on');
    expect(facts('scsi0', `${DISK},aio=native,cache=directsync`).startError).toBeNull();
    expect(facts('scsi0', `${DISK},aio=threads,cache=writeback`).startError).toBeNull();
  });

  it('5./6. default: io_uring unless lvm, cifs, or krbd without O_DIRECT; then native if direct, else threads', () => {
    const aio = (volume: string, cache?: string) => facts('scsi0', cache ? `${volume},cache=${cache}` : volume).aio.effective;
    expect(aio('lvm:vm-100-disk-0')).toBe('native');
    expect(aio('lvm:vm-100-disk-0', 'directsync')).toBe('native');
    expect(aio('lvm:vm-100-disk-0', 'writeback')).toBe('threads');
    expect(aio('lvm:vm-100-disk-0', 'writethrough')).toBe('threads');
    expect(aio('cifs:100/vm-100-disk-0.raw')).toBe('native');
    expect(aio('cifs:100/vm-100-disk-0.raw', 'unsafe')).toBe('threads');
    expect(aio('krbd:vm-100-disk-0')).toBe('io_uring');
    expect(aio('krbd:vm-100-disk-0', 'none')).toBe('io_uring');
    expect(aio('krbd:vm-100-disk-0', 'writeback')).toBe('threads');
    // Everything else keeps io_uring, whatever the cache.
    for (const v of ['lvmthin:vm-100-disk-0', 'local:100/vm-100-disk-0.raw', 'nfs:100/vm-100-disk-0.raw', 'zfspool:vm-100-disk-0', 'btrfs:100/vm-100-disk-0.raw']) {
      expect([v, aio(v, 'writeback')]).toEqual([v, 'io_uring']);
    }
    // A cdrom on CIFS is not direct: threads.
    expect(facts('ide2', 'cifs:iso/x.iso,media=cdrom').aio.effective).toBe('threads');
  });

  it('notes say why the default is not io_uring', () => {
    expect(notesOf(facts('scsi0', 'lvm:vm-100-disk-0'))).toContain('aio default → native (lvm)');
    expect(notesOf(facts('scsi0', 'lvm:vm-100-disk-0,cache=writeback'))).toContain('aio default → threads (lvm, cache=writeback)');
    expect(notesOf(facts('scsi0', 'krbd:vm-100-disk-0,cache=writeback'))).toContain('aio default → threads (krbd, cache=writeback)');
    expect(notesOf(facts('scsi0', 'cifs:100/vm-100-disk-0.raw'))).toContain('aio default → native (cifs)');
    expect(notesOf(facts('ide2', 'cifs:iso/x.iso,media=cdrom'))).toContain('aio default → threads (cifs, cdrom)');
  });

  it('7. machine < 10.0 (-drive): aio is printed for every drive with a medium, even librbd and iSCSI', () => {
    const old = { machine: 'pc-i440fx-9.2' };
    expect(facts('scsi0', 'librbd:vm-100-disk-0', old).aio.effective).toBe('io_uring');
    expect(facts('scsi0', 'zfs-iscsi:vm-100-disk-0', old).aio.effective).toBe('io_uring');
    expect(facts('scsi0', 'librbd:vm-100-disk-0,aio=native', old).aio.effective).toBe('native');
    expect(notesOf(facts('scsi0', 'librbd:vm-100-disk-0', old)).some((n) => n.includes('probably ignores it'))).toBe(true);
    expect(facts('scsi0', 'lvm:vm-100-disk-0', old).aio.effective).toBe('native');
  });
});

describe('start errors', () => {
  it("snapshot=1 aborts the start from machine 10.0 ('-blockdev') but not before", () => {
    expect(facts('scsi0', `${DISK},snapshot=1`).startError).toContain("'snapshot' option is not yet supported for '-blockdev'");
    expect(facts('scsi0', `${DISK},snapshot=1`, { machine: 'pc-i440fx-9.2' }).startError).toBeNull();
  });

  it('scsi14 and up need machine 4.1+pve2', () => {
    expect(facts('scsi14', DISK, { machine: 'pc-i440fx-4.1' }).startError).toContain('4.1~pve2 or higher');
    expect(facts('scsi14', DISK, { machine: 'pc-i440fx-4.1+pve1' }).startError).toContain('more than 14 SCSI disks');
    expect(facts('scsi14', DISK, { machine: 'pc-i440fx-4.1+pve2' }).startError).toBeNull();
    expect(facts('scsi13', DISK, { machine: 'pc-i440fx-4.0' }).startError).toBeNull();
  });
});
