// SPDX-License-Identifier: AGPL-3.0-or-later
/** The one-line disk facts of the fleet table: what a PVE admin reads in the Disks column. */
import { describe, expect, it } from 'vitest';
import { analyzeVm, vmInputFromFile } from '../../src/audit/index.js';
import { parseStorageCfg, parseVmConfig } from '../../src/pve/index.js';
import { diskFactsText } from '../../panel/data/filter.js';

const STORAGE = `dir: local
	path /var/lib/vz
	content images,iso

lvmthin: local-lvm
	vgname pve
	thinpool data
	content images

rbd: ceph-vm
	pool vm
	content images
`;

function disks(text: string) {
  const input = vmInputFromFile(parseVmConfig(text, { vmid: 100, source: '100.conf' }), 'pve1');
  input.runtime = { status: 'running' };
  const report = analyzeVm(input, { storages: parseStorageCfg(STORAGE).storages, installedQemu: [10, 1, 2], installedQemuAssumed: false });
  return new Map(report.disks.map((d) => [d.key, d]));
}

describe('disk facts text', () => {
  const d = disks(
    [
      'ide2: none,media=cdrom',
      'ide0: local:iso/debian.iso,media=cdrom,size=600M',
      'scsi0: local-lvm:vm-100-disk-0,iothread=1,size=32G',
      'scsi1: ceph-vm:vm-100-disk-1,iothread=1,size=32G',
      'scsihw: virtio-scsi-single',
      '',
    ].join('\n'),
  );

  it('an empty CD-ROM drive says it has no medium, not "aio none"', () => {
    const text = diskFactsText(d.get('ide2')!);
    expect(text).toContain('no medium');
    expect(text).not.toContain('aio');
  });

  it('a CD-ROM with an ISO and a disk keep their aio mode', () => {
    expect(diskFactsText(d.get('ide0')!)).toMatch(/aio io_uring$/);
    expect(diskFactsText(d.get('scsi0')!)).toBe('scsi-hd on virtio-scsi-pci, iothread on, aio io_uring');
  });

  it('a librbd disk says QEMU has no aio for it, not "aio none"', () => {
    expect(diskFactsText(d.get('scsi1')!)).toBe('scsi-hd on virtio-scsi-pci, iothread on, no aio (librbd, -blockdev)');
  });
});
