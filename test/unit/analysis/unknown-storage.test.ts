// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A storage whose type we cannot see (token without Datastore.Audit, no storage.cfg): the facts
 * that depend on the type are reported as unknown with the reason, never guessed (issue #3); the
 * others are still computed (docs/how-qemu-server-decides.md#aio, docs/how-qemu-server-decides.md#controllers).
 */
import { notesOf } from '../../../src/present/deviations.js';
import { describe, expect, it } from 'vitest';
import { analyzeVm } from '../../../src/audit/index.js';
import { diskFacts, unknownReason } from '../../../src/analysis/disk-status.js';
import type { AnalysisEnv, DiskFacts } from '../../../src/analysis/types.js';
import { parseDrive } from '../../../src/pve/index.js';
import { ENV, context, facts, vmInput, type FactsOptions } from './helpers.js';

const WHY = 'not in /storage: the token lacks Datastore.Audit on /storage/ceph';
const HIDDEN: AnalysisEnv = { ...ENV, unreadableStorages: { ceph: WHY } };

/** Facts of a drive on the hidden storage `ceph` (the test storages do not define it). */
function hidden(key: string, value: string, o: FactsOptions = {}): DiskFacts {
  const drive = parseDrive(key, value, { vmid: 100 });
  return diskFacts(drive, { ...context(o), unreadableStorages: { ceph: WHY } });
}

function unknownFields(f: DiskFacts): string[] {
  return (f.unknown ?? []).map((u) => u.field).sort();
}

describe('a storage the token may not read (online)', () => {
  it('aio and O_DIRECT are unknown (null), naming the missing privilege; controller and IO thread are computed', () => {
    const vm = analyzeVm(vmInput({ scsihw: 'virtio-scsi-single', scsi0: 'ceph:vm-100-disk-0,iothread=1,size=8G' }), HIDDEN);
    const d = vm.disks[0]!;
    expect(d.unknown).toEqual([
      { field: 'aio', reason: WHY },
      { field: 'cacheDirect', reason: WHY },
    ]);
    expect([d.aio.effective, d.cacheDirect]).toEqual([null, null]);
    expect([d.qemuDevice, d.controller, d.controllerId, d.iothread]).toEqual([
      'scsi-hd',
      'virtio-scsi-pci',
      'virtioscsi0',
      { configured: true, effective: true },
    ]);
    // It exists, PVE just will not tell us its type: no start error, no "not in storage.cfg" issue.
    expect(d.startError).toBeNull();
    expect(vm.issues).toEqual([]);
    expect(notesOf(d)[0]).toBe(`storage 'ceph' type unknown (${WHY}): the aio mode and O_DIRECT could not be determined`);
    expect(notesOf(d).join(' ')).not.toMatch(/assume/);
  });

  it('the same disk on a storage we can see gets real values and no unknown list', () => {
    const lvm = analyzeVm(vmInput({ scsi0: 'lvm:vm-100-disk-0' }), HIDDEN).disks[0]!;
    expect([lvm.aio.effective, lvm.cacheDirect, lvm.unknown]).toEqual(['native', true, undefined]);
  });

  it('an explicit aio on a -drive machine stays known: qemu-server always passes it', () => {
    const f = hidden('scsi0', 'ceph:vm-100-disk-0,aio=threads,cache=none', { machine: 'pc-i440fx-9.2' });
    expect([f.aio.effective, f.cacheDirect, f.unknown]).toEqual(['threads', true, undefined]);
    expect(notesOf(f)[0]).toContain('no fact of this disk depends on it');
  });

  it('an explicit aio under -blockdev is unknown: librbd, iSCSI, NBD and PBS get no aio at all', () => {
    const f = hidden('scsi0', 'ceph:vm-100-disk-0,aio=threads,cache=none');
    expect(unknownFields(f)).toEqual(['aio']);
    expect([f.aio.configured, f.aio.effective, f.cacheDirect]).toEqual(['threads', null, true]);
  });

  it('an unset aio is unknown on -drive too: the storage picks the default (LVM, CIFS, krbd)', () => {
    const f = hidden('virtio0', 'ceph:vm-100-disk-0,cache=writeback', { machine: 'pc-i440fx-9.2' });
    expect(unknownFields(f)).toEqual(['aio']);
    expect(f.cacheDirect).toBe(false);
  });

  it('O_DIRECT is known whenever cache is set or the drive is a CD-ROM; unknown only when cache is unset (btrfs)', () => {
    expect(unknownFields(hidden('scsi0', 'ceph:vm-100-disk-0,cache=directsync', { machine: 'pc-i440fx-9.2' }))).toEqual(['aio']);
    const cd = hidden('ide2', 'ceph:iso/x.iso,media=cdrom');
    expect([cd.cacheDirect, unknownFields(cd)]).toEqual([false, ['aio']]);
    expect(unknownFields(hidden('sata0', 'ceph:vm-100-disk-0'))).toEqual(['aio', 'cacheDirect']);
  });

  it('an empty drive has nothing to know about its storage', () => {
    const f = hidden('ide2', 'none,media=cdrom');
    expect([f.unknown, f.aio.effective, f.cacheDirect]).toEqual([undefined, null, null]);
  });

  it('the SCSI device is unknown only on machine < 4.1 (an iSCSI volume becomes scsi-generic, docs/how-qemu-server-decides.md#controllers)', () => {
    const old = hidden('scsi0', 'ceph:vm-100-disk-0,aio=threads,cache=none', { machine: 'pc-i440fx-4.0' });
    expect([old.qemuDevice, unknownFields(old), unknownReason(old, 'qemuDevice')]).toEqual([null, ['qemuDevice'], WHY]);
    expect([old.controller, old.controllerId]).toEqual(['lsi', 'scsihw0']);
    expect(hidden('scsi0', 'ceph:vm-100-disk-0,aio=threads,cache=none', { machine: 'pc-i440fx-4.1' }).qemuDevice).toBe('scsi-hd');
    expect(hidden('virtio0', 'ceph:vm-100-disk-0,aio=threads,cache=none', { machine: 'pc-i440fx-4.0' }).qemuDevice).toBe('virtio-blk-pci');
    expect(hidden('scsi2', 'ceph:iso/x.iso,media=cdrom,aio=threads', { machine: 'pc-i440fx-4.0' }).qemuDevice).toBe('scsi-cd');
    // Known storages keep the exact rule.
    expect(facts('scsi0', 'iscsidirect:0.0.0.scsi-x', { machine: 'pc-i440fx-4.0' }).qemuDevice).toBe('scsi-generic');
  });

  it('aio=native without O_DIRECT is no start error, only a note: the storage may take no aio', () => {
    const f = hidden('scsi0', 'ceph:vm-100-disk-0,aio=native,cache=writeback');
    expect(f.startError).toBeNull();
    expect(notesOf(f)).toContain("aio=native: if storage 'ceph' is a file or block storage, QEMU refuses to start (aio=native needs cache.direct=on)");
    // Known file storage: a start error, as before.
    expect(facts('scsi0', 'local:100/vm-100-disk-0.qcow2,aio=native,cache=writeback').startError).toMatch(/aio=native was specified/);
  });

  it('pending facts carry their own unknown list, and a change of it shows as a pending change', () => {
    const vm = analyzeVm(
      vmInput({ scsi0: 'lvm:vm-100-disk-0' }, { pending: { scsi0: 'ceph:vm-100-disk-0' }, runtime: { status: 'running' } }),
      HIDDEN,
    );
    const d = vm.disks[0]!;
    expect(d.unknown).toBeUndefined();
    expect(d.pending).toMatchObject({ aio: { effective: null }, cacheDirect: null, unknown: [{ field: 'aio' }, { field: 'cacheDirect' }] });
  });

  it('a storage missing from a storage.cfg that was read still does not exist (start error, facts assumed)', () => {
    const vm = analyzeVm(vmInput({ scsi0: 'nosuch:vm-100-disk-0' }), HIDDEN);
    expect(vm.disks[0]!.startError).toBe("storage 'nosuch' does not exist");
    expect(vm.disks[0]!.unknown).toBeUndefined();
    expect(vm.issues.map((i) => i.severity)).toEqual(['error']);
  });
});

describe('no storage.cfg at all (offline)', () => {
  const NONE: AnalysisEnv = { ...ENV, storages: new Map(), storageTypesUnknown: 'no storage.cfg given: pass --storage-cfg' };

  it('every storage is unknown with that reason, not "does not exist"', () => {
    const vm = analyzeVm(vmInput({ scsi0: 'local-lvm:vm-100-disk-0', virtio0: 'san:vm-100-disk-1,cache=none,aio=native' }), NONE);
    expect(vm.issues).toEqual([]);
    expect(vm.disks.map((d) => d.startError)).toEqual([null, null]);
    expect(vm.disks[0]!.unknown).toEqual([
      { field: 'aio', reason: 'no storage.cfg given: pass --storage-cfg' },
      { field: 'cacheDirect', reason: 'no storage.cfg given: pass --storage-cfg' },
    ]);
    expect(vm.disks[1]!.unknown).toEqual([{ field: 'aio', reason: 'no storage.cfg given: pass --storage-cfg' }]);
    expect(vm.disks[1]!.cacheDirect).toBe(true);
  });

  it('paths and a storage that is in the (partial) map are known', () => {
    const partial: AnalysisEnv = { ...NONE, storages: ENV.storages };
    const vm = analyzeVm(vmInput({ scsi0: 'lvm:vm-100-disk-0', scsi1: '/dev/sdb', scsi2: 'other:vm-100-disk-2' }), partial);
    expect(vm.disks.map((d) => d.unknown?.length ?? 0)).toEqual([0, 0, 2]);
    expect(vm.disks[1]!.aio.effective).toBe('io_uring');
  });
});
