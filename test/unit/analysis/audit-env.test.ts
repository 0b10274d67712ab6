// SPDX-License-Identifier: AGPL-3.0-or-later
/** What the environment contributes: per-node QEMU versions, unreadable storages, assumptions, input mapping. */
import { notesOf } from '../../../src/present/deviations.js';
import { describe, expect, it } from 'vitest';
import { analyzeVm, buildAuditReport, vmInputFromFile } from '../../../src/audit/index.js';
import type { AnalysisEnv } from '../../../src/analysis/types.js';
import { parseVmConfig } from '../../../src/pve/index.js';
import { ENV, vmInput } from './helpers.js';

describe('installed QEMU per node (online)', () => {
  it("takes the VM's node version over the cluster-wide one", () => {
    const env: AnalysisEnv = { ...ENV, installedQemu: [11, 0, 0], installedQemuAssumed: true, installedQemuByNode: { old: [9, 2, 0] } };
    const onOld = analyzeVm(vmInput({ scsi0: 'librbd:vm-100-disk-0' }, { node: 'old' }), env);
    expect([onOld.machine.version, onOld.machine.basis, onOld.disks[0]!.aio.effective]).toEqual(['9.2+pve1', 'unpinned: installed QEMU 9.2', 'io_uring']);
    const elsewhere = analyzeVm(vmInput({ scsi0: 'librbd:vm-100-disk-0' }, { node: 'new' }), env);
    expect([elsewhere.machine.version, elsewhere.disks[0]!.aio.effective]).toEqual(['11.0+pve2', null]);
  });

  it('only says the version was assumed when a VM needed the assumption', () => {
    const env: AnalysisEnv = { ...ENV, installedQemuAssumed: true, installedQemuByNode: { a: [10, 1, 0] } };
    const runtime = { status: 'stopped' };
    expect(buildAuditReport([vmInput({}, { node: 'a', runtime })], env).assumptions).toEqual([]);
    expect(buildAuditReport([vmInput({}, { node: 'b', runtime })], env).assumptions[0]).toContain('assumed to be 11.0');
  });
});

describe('storages the token cannot read (online)', () => {
  it('are no start error and no "not in storage.cfg" issue, but a note saying the type is unknown and why', () => {
    const env: AnalysisEnv = { ...ENV, unreadableStorages: { secret: 'no Datastore.Audit on /storage/secret' } };
    const vm = analyzeVm(vmInput({ scsi0: 'secret:vm-100-disk-0' }), env);
    expect(vm.disks[0]!.startError).toBeNull();
    expect(vm.issues).toEqual([]);
    expect(notesOf(vm.disks[0]!)[0]).toContain("storage 'secret' type unknown (no Datastore.Audit on /storage/secret)");
  });
});

describe('vmInputFromFile', () => {
  it('maps the sections, keeps line numbers and names the source in every issue', () => {
    const text = [
      'name: x',
      'scsi0: lvmthin:vm-100-disk-0,size=8G',
      'bogus-key: 1',
      '',
      '[PENDING]',
      'scsihw: virtio-scsi-single',
      'delete: !scsi1,net0',
      '',
      '[snap1]',
      'scsi0: lvmthin:vm-100-disk-0,size=8G',
      'snaptime: 1',
      '',
    ].join('\n');
    const file = parseVmConfig(text, { vmid: 100, source: '/copy/nodes/a/qemu-server/100.conf' });
    const input = vmInputFromFile(file, 'a');
    expect(input).toMatchObject({
      vmid: 100,
      node: 'a',
      source: '/copy/nodes/a/qemu-server/100.conf',
      digest: file.digest,
      current: { name: 'x', scsi0: 'lvmthin:vm-100-disk-0,size=8G' },
      pending: { scsihw: 'virtio-scsi-single' },
      snapshots: [{ scsi0: 'lvmthin:vm-100-disk-0,size=8G', snaptime: '1' }],
      lines: { current: { name: 1, scsi0: 2 }, pending: { scsihw: 6 } },
    });
    expect(input.deletes).toHaveLength(2);
    expect(input.deletes).toEqual(expect.arrayContaining([{ key: 'net0', force: false }, { key: 'scsi1', force: true }]));
    expect(input.issues).toEqual([expect.objectContaining({ source: '/copy/nodes/a/qemu-server/100.conf', line: 3, key: 'bogus-key' })]);
  });
});
