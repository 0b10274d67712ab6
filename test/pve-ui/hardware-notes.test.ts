// SPDX-License-Identifier: AGPL-3.0-or-later
// The notes pve-dataplane adds to PVE's Hardware view, from the core's report of one VM.
import { describe, expect, it } from 'vitest';
import { buildAuditReport, vmInputFromFile } from '../../src/audit/index.js';
import { parseStorageCfg } from '../../src/pve/storage-cfg.js';
import { parseVmConfig } from '../../src/pve/vm-config-parse.js';
import { hardwareNotes } from '../../panel/pve-ui/hardware-notes.js';
import { notesHtml } from '../../panel/pve-ui/hardware-glue.js';

const STORAGE = 'lvm: san\n\tvgname san\n\tcontent images\n\tshared 1\n';
const CURRENT = 'scsihw: virtio-scsi-pci\nscsi0: san:vm-100-disk-0,iothread=1,size=32G\n';

function notesOf(text: string, storageCfg = STORAGE) {
  const input = vmInputFromFile(parseVmConfig(text, { vmid: 100, source: '100.conf' }), 'pve1');
  const vm = buildAuditReport([input], { storages: parseStorageCfg(storageCfg).storages, installedQemu: [10, 1, 0], installedQemuAssumed: false }).vms[0]!;
  return hardwareNotes(vm);
}

describe('Hardware view notes', () => {
  it('an ignored IO thread and an aio PVE mislabels are noted, and the SCSI Controller row offers the fix', () => {
    const n = notesOf(CURRENT);
    expect(n.disks.get('scsi0')).toEqual(['IO thread: iothread=1 (ignored: scsihw virtio-scsi-pci)', 'Async IO: default → native (lvm)']);
    expect(n.scsihw).toBe('iothread=1 ignored: scsihw virtio-scsi-pci (1 disk)');
    expect(n.fixPending).toBe(false);
  });

  it('a fix already written (pending) says what runs after the next cold start and offers no second fix', () => {
    const n = notesOf(`${CURRENT}\n[PENDING]\nscsihw: virtio-scsi-single\nscsi0: san:vm-100-disk-0,aio=threads,iothread=1,size=32G\n`);
    expect(n.disks.get('scsi0')).toEqual([
      'IO thread: iothread=1 (ignored: scsihw virtio-scsi-pci); on after the next cold start',
      'Async IO: default → native (lvm); threads after the next cold start',
    ]);
    expect(n.scsihw).toBe('iothread=1 ignored: scsihw virtio-scsi-pci (1 disk); the pending changes end this at the next cold start');
    expect(n.fixPending).toBe(true);
  });

  it('a pending change that fixes only the controller still offers the fix for the aio', () => {
    const n = notesOf(`${CURRENT}\n[PENDING]\nscsihw: virtio-scsi-single\n`);
    expect(n.disks.get('scsi0')).toEqual(['IO thread: iothread=1 (ignored: scsihw virtio-scsi-pci); on after the next cold start', 'Async IO: default → native (lvm)']);
    expect(n.fixPending).toBe(false);
    // The SCSI Controller row, beside PVE's orange pending "VirtIO SCSI single", says the write is done.
    expect(n.scsihw).toBe('iothread=1 ignored: scsihw virtio-scsi-pci (1 disk); the pending changes end this at the next cold start');
  });

  it('a disk QEMU refuses (aio=native with a write-back cache) says the VM does not start, though aio runs as configured', () => {
    const n = notesOf('scsihw: virtio-scsi-single\nscsi0: san:vm-100-disk-0,aio=native,cache=writeback,iothread=1,size=32G\n');
    expect(n.disks.get('scsi0')).toBeUndefined();
    expect(n.startErrors.get('scsi0')).toEqual(['the VM does not start: aio=native was specified, but it requires cache.direct=on, which was not specified.']);
    expect(n.scsihw).toBeNull();
    const html = notesHtml([], null, n.startErrors.get('scsi0'));
    expect(html).toContain('dp-hw-error');
    expect(html).toContain('requires cache.direct=on');
  });

  it('an empty SCSI drive without media=cdrom (no medium, so no aio note) still says the VM does not start', () => {
    const n = notesOf('scsihw: virtio-scsi-single\nscsi1: none\n');
    expect(n.startErrors.get('scsi1')).toEqual([expect.stringMatching(/^the VM does not start: scsi1: an empty drive \(none\) on SCSI needs media=cdrom/)]);
  });

  it('a pending change that brings a start error names it as after the next cold start', () => {
    const n = notesOf('scsihw: virtio-scsi-single\nscsi0: san:vm-100-disk-0,iothread=1,size=32G\n\n[PENDING]\nscsi0: san:vm-100-disk-0,aio=native,cache=unsafe,iothread=1,size=32G\n');
    expect(n.startErrors.get('scsi0')).toEqual([expect.stringMatching(/^after the next cold start the VM does not start: aio=native/)]);
  });

  it('the EFI Disk and TPM State rows say the VM does not start when their storage holds no disk images', () => {
    const vm = 'bios: ovmf\nefidisk0: san:vm-100-disk-2,efitype=4m,size=4M\ntpmstate0: san:vm-100-disk-3,size=4M,version=v2.0\nscsihw: virtio-scsi-single\nscsi0: san:vm-100-disk-0,iothread=1,size=32G\n';
    expect(notesOf(vm).startErrors.size).toBe(0);
    const n = notesOf(vm, STORAGE.replace('content images', 'content rootdir'));
    const says = ["the VM does not start: storage 'san' does not support content-type 'images'"];
    expect(n.startErrors.get('efidisk0')).toEqual(says);
    expect(n.startErrors.get('tpmstate0')).toEqual(says);
    expect(n.startErrors.get('scsi0')).toEqual(says);
  });

  it('the EFI Disk row names every reason its volume stops the start, not only the last one', () => {
    const vm = 'bios: ovmf\nefidisk0: san:vm-100-disk-2,efitype=4m,size=4M\nscsihw: virtio-scsi-single\nscsi0: san:vm-100-disk-0,iothread=1,size=32G\n';
    const n = notesOf(vm, STORAGE.replace('content images', 'content rootdir\n\tdisable 1'));
    expect(n.startErrors.get('efidisk0')).toEqual([
      "the VM does not start: storage 'san' does not support content-type 'images'",
      "the VM does not start: storage 'san' is disabled",
    ]);
  });

  it("the note icons stay visible on PVE's dark theme as on the light one (3:1, WCAG 1.4.11): the red error icon was 2.8:1 on proxmox-dark", () => {
    const html = notesHtml(['a note'], null, ['an error']);
    const colours = [...html.matchAll(/style="color:(#[0-9a-f]{6})"/g)].map((m) => m[1]!);
    expect(colours).toHaveLength(2);
    const luminance = (hex: string): number => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const contrast = (a: string, b: string): number => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi! + 0.05) / (lo! + 0.05);
    };
    // crisp's grid (white) and proxmox-widget-toolkit theme-proxmox-dark's panel background, hsl(0, 0%, 15%).
    for (const colour of colours) for (const background of ['#ffffff', '#262626']) expect(contrast(colour, background)).toBeGreaterThanOrEqual(3);
  });
});
