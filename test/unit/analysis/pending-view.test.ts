// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The "after the next cold start" view: docs/how-qemu-server-decides.md#pending (applying pending), docs/how-qemu-server-decides.md#pending (forced deletes) and the
 * per-disk `pending` facts of the report.
 */
import { describe, expect, it } from 'vitest';
import { analyzeVm, vmInputFromFile } from '../../../src/audit/index.js';
import { applyPendingWithWarnings, configValues, nextStartValues as nextStartConfig, parseVmConfig } from '../../../src/pve/index.js';
import { ENV, vmInput } from './helpers.js';

const D0 = 'lvmthin:vm-100-disk-0,size=8G';
const D1 = 'lvmthin:vm-100-disk-1,size=8G';

describe('applying pending', () => {
  it('deletes first, then sets: a key both deleted and set ends up set', () => {
    const { config } = nextStartConfig(100, { scsi0: D0, scsi1: D1, cores: '2' }, { scsi1: `${D1},iothread=1`, memory: '4096' }, [
      { key: 'scsi1', force: false },
      { key: 'cores', force: false },
    ]);
    expect(config).toEqual({ scsi0: D0, scsi1: `${D1},iothread=1`, memory: '4096' });
  });

  it('a delete of an unset key changes nothing', () => {
    expect(nextStartConfig(100, { scsi0: D0 }, {}, [{ key: 'scsi5', force: true }]).config).toEqual({ scsi0: D0 });
  });
});

describe('forced deletes', () => {
  it('fail when this VM owns the volume and a snapshot still uses it', () => {
    const r = nextStartConfig(100, { scsi0: D0 }, {}, [{ key: 'scsi0', force: true }], [{ scsi0: D0 }]);
    expect(r.config.scsi0).toBe(D0);
    expect(r.failedDeletes[0]!.reason).toContain('volume is still in use (snapshot?)');
  });

  it('fail when another drive of the config uses the volume', () => {
    expect(nextStartConfig(100, { scsi0: D0, scsi1: D0 }, {}, [{ key: 'scsi0', force: true }]).config.scsi0).toBe(D0);
  });

  it('go through for a volume of another VM, for absolute paths, for CD-ROMs and when unused', () => {
    const other = 'lvmthin:vm-200-disk-0';
    expect(nextStartConfig(100, { scsi0: other }, {}, [{ key: 'scsi0', force: true }], [{ scsi0: other }]).config).toEqual({});
    expect(nextStartConfig(100, { scsi0: '/dev/sdb' }, {}, [{ key: 'scsi0', force: true }], [{ scsi0: '/dev/sdb' }]).config).toEqual({});
    const iso = 'local:iso/x.iso,media=cdrom';
    expect(nextStartConfig(100, { ide2: iso }, {}, [{ key: 'ide2', force: true }], [{ scsi0: 'local:iso/x.iso' }]).config).toEqual({});
    expect(nextStartConfig(100, { scsi0: D0 }, {}, [{ key: 'scsi0', force: true }]).config).toEqual({});
  });

  it('count a cloud-init drive as a disk, and a snapshot CD-ROM as no user', () => {
    const ci = 'lvmthin:vm-100-cloudinit,media=cdrom';
    expect(nextStartConfig(100, { ide0: ci }, {}, [{ key: 'ide0', force: true }], [{ ide0: 'lvmthin:vm-100-cloudinit' }]).config.ide0).toBe(ci);
    expect(nextStartConfig(100, { scsi0: D0 }, {}, [{ key: 'scsi0', force: true }], [{ ide2: `${D0},media=cdrom` }]).config).toEqual({});
  });

  it('non-forced deletes always go through, even with snapshots (the owned volume becomes unused0)', () => {
    expect(nextStartConfig(100, { scsi0: D0 }, {}, [{ key: 'scsi0', force: false }], [{ scsi0: D0 }]).config).toEqual({ unused0: 'lvmthin:vm-100-disk-0' });
  });

  it('show up as a warning of the VM, and the disk keeps no pending facts', () => {
    const vm = analyzeVm(vmInput({ scsi0: D0 }, { deletes: [{ key: 'scsi0', force: true }], snapshots: [{ scsi0: D0 }] }), ENV);
    expect(vm.disks[0]!.pending).toBeUndefined();
    expect(vm.issues).toEqual([expect.objectContaining({ key: 'scsi0', severity: 'warning' })]);
  });
});

describe('pending facts per disk', () => {
  it('a pending scsihw change moves every scsi disk; nothing is pending for unchanged disks', () => {
    const vm = analyzeVm(
      vmInput({ scsihw: 'lsi', scsi0: `${D0},iothread=1`, virtio0: D1 }, { pending: { scsihw: 'virtio-scsi-single' } }),
      ENV,
    );
    expect(vm.scsihw).toEqual({ configured: 'lsi', effective: 'lsi', pending: { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' } });
    expect(vm.pendingDataplaneChanges).toBe(true);
    const [scsi0, virtio0] = vm.disks;
    expect([scsi0!.controller, scsi0!.controllerId, scsi0!.iothread.effective]).toEqual(['lsi', 'scsihw0', false]);
    expect(scsi0!.pending).toMatchObject({ controller: 'virtio-scsi-pci', controllerId: 'virtioscsi0', iothread: { configured: true, effective: true } });
    expect(virtio0!.pending).toBeUndefined();
  });

  it('a pending drive change shows the drive as it will be; a pending delete shows {deleted: true}', () => {
    const vm = analyzeVm(
      vmInput(
        { scsihw: 'virtio-scsi-single', scsi0: D0, scsi1: D1 },
        { pending: { scsi0: `${D0},iothread=1,aio=threads` }, deletes: [{ key: 'scsi1', force: false }] },
      ),
      ENV,
    );
    const [scsi0, scsi1] = vm.disks;
    expect(scsi0!.aio).toEqual({ configured: null, effective: 'io_uring' });
    expect(scsi0!.pending).toMatchObject({ iothread: { effective: true }, aio: { configured: 'threads', effective: 'threads' } });
    expect(scsi1!.pending).toEqual({ deleted: true });
  });

  it('a disk that exists only after the pending changes has null current facts and onlyPending', () => {
    const vm = analyzeVm(vmInput({ scsihw: 'virtio-scsi-single' }, { pending: { scsi2: `${D1},iothread=1` } }), ENV);
    const d = vm.disks[0]!;
    expect([d.key, d.onlyPending, d.qemuDevice, d.controller, d.aio.effective, d.cacheDirect, d.volume]).toEqual([
      'scsi2',
      true,
      null,
      null,
      null,
      null,
      'lvmthin:vm-100-disk-1',
    ]);
    expect(d.pending).toMatchObject({ qemuDevice: 'scsi-hd', controllerId: 'virtioscsi2', iothread: { effective: true } });
  });

  it('a pending value that changes nothing QEMU sees gives no pending facts', () => {
    const vm = analyzeVm(vmInput({ scsi0: D0 }, { pending: { scsi0: `${D0},backup=0` } }), ENV);
    expect(vm.disks[0]!.pending).toBeUndefined();
    expect(vm.pendingDataplaneChanges).toBe(true);
  });

  it('a running VM on an older machine: now from running-machine, the cold start on the installed QEMU', () => {
    const input = vmInput({ scsi0: 'librbd:vm-100-disk-0' }, { runtime: { status: 'running', runningMachine: 'pc-i440fx-9.2+pve1', runningQemu: '9.2.0' } });
    const vm = analyzeVm(input, ENV);
    expect([vm.status, vm.machine.version, vm.machine.blockdev]).toEqual(['running', '9.2+pve1', false]);
    expect(vm.machine.pending).toMatchObject({ version: '11.0+pve2', blockdev: true });
    expect(vm.disks[0]!.aio.effective).toBe('io_uring');
    expect(vm.disks[0]!.pending).toMatchObject({ aio: { effective: null } });
    expect(vm.pendingDataplaneChanges).toBe(false);
  });
});

describe('one cold start for the audit and the simulator (issue #8 example)', () => {
  // scsi0 cannot be read by PVE (iothread is a boolean): parse_vm_config leaves it out, so the
  // config vmconfig_apply_pending writes back no longer has it; scsi1 is deleted (unused0).
  const TEXT = 'scsihw: virtio-scsi-single\nscsi0: lvmthin:vm-100-disk-0,iothread=maybe\nscsi1: lvmthin:vm-100-disk-1,size=4G\n\n[PENDING]\ndelete: scsi1\n';
  const AFTER = { scsihw: 'virtio-scsi-single', unused0: 'lvmthin:vm-100-disk-1' };

  it('the simulator writes what PVE writes', () => {
    const { file, dropped } = applyPendingWithWarnings(parseVmConfig(TEXT, { vmid: 100 }));
    expect(configValues(file.main)).toEqual(AFTER);
    expect(file.raw).toBe('scsihw: virtio-scsi-single\nunused0: lvmthin:vm-100-disk-1\n');
    expect(dropped).toEqual([{ key: 'scsi0', reason: "type check ('boolean') failed - got 'maybe'" }]);
  });

  it('the audit sees the same next start: scsi0 and scsi1 gone', () => {
    const input = vmInputFromFile(parseVmConfig(TEXT, { vmid: 100 }), 'pve1');
    expect(nextStartConfig(100, input.current, input.pending, input.deletes).config).toEqual(AFTER);
    const vm = analyzeVm(input, ENV);
    expect(vm.disks.map((d) => [d.key, d.pending])).toEqual([
      ['scsi0', { deleted: true }],
      ['scsi1', { deleted: true }],
    ]);
  });
});
