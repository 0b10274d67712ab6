// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A generated /etc/pve-like tree for the offline benchmarks: `storage.cfg`, N VM configs spread over
 * 4 nodes (`nodes/<node>/qemu-server/<vmid>.conf`) and the local node's `qemu-server` symlink, as
 * pmxcfs lays them out. Configs are realistic: 1-4 disks on varying buses, storages (LVM, LVM-thin,
 * RBD with krbd, CIFS) and options, a Windows guest every tenth VM, `[PENDING]` every seventh.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NODES = ['pve1', 'pve2', 'pve3', 'pve4'];

const STORAGE_CFG = `dir: local
	path /var/lib/vz
	content iso,images

lvmthin: local-lvm
	thinpool data
	vgname pve
	content images

lvm: san
	vgname san
	content images

rbd: ceph
	pool vm
	content images
	krbd 1

cifs: nas
	path /mnt/pve/nas
	server 192.0.2.1
	share s
	content images
`;

/** One VM's config text. */
export function vmConfig(vmid: number): string {
  const storages = ['local-lvm', 'san', 'ceph', 'nas'];
  const scsihw = ['', 'scsihw: virtio-scsi-single', 'scsihw: virtio-scsi-pci', 'scsihw: lsi'][vmid % 4]!;
  const lines = [
    `boot: order=scsi0;net0`,
    `cores: ${1 + (vmid % 8)}`,
    `ide2: local:iso/debian-12.iso,media=cdrom,size=600M`,
    `memory: ${1024 * (1 + (vmid % 16))}`,
    `meta: creation-qemu=9.2.0,ctime=1735000000`,
    `name: vm${vmid}`,
    `net0: virtio=BC:24:11:${(vmid >> 8).toString(16).padStart(2, '0')}:${(vmid & 255).toString(16).padStart(2, '0')}:00,bridge=vmbr0`,
    `ostype: ${vmid % 10 === 0 ? 'win10' : 'l26'}`,
  ];
  for (let d = 0; d < 1 + (vmid % 4); d++) {
    const storage = storages[(vmid + d) % storages.length]!;
    const vol = storage === 'nas' ? `nas:${vmid}/vm-${vmid}-disk-${d}.qcow2` : `${storage}:vm-${vmid}-disk-${d}`;
    const opts = [vmid % 3 === 0 ? 'iothread=1' : '', vmid % 5 === 0 ? 'cache=writeback' : '', 'discard=on', `size=${8 * (d + 1)}G`].filter(Boolean);
    lines.push(`scsi${d}: ${vol},${opts.join(',')}`);
  }
  if (scsihw) lines.push(scsihw);
  lines.push(`smbios1: uuid=00000000-0000-4000-8000-${String(vmid).padStart(12, '0')}`, `vmgenid: 00000000-0000-4000-8000-${String(vmid).padStart(12, '0')}`);
  if (vmid % 7 === 0) lines.push('', '[PENDING]', `scsi0: local-lvm:vm-${vmid}-disk-0,aio=threads,iothread=1,size=8G`, 'scsihw: virtio-scsi-single');
  return lines.join('\n') + '\n';
}

/** Writes the tree for VMIDs 100 … 99+vms into a new temp dir and returns its path. */
export function writeEtcPveTree(vms: number): string {
  const root = mkdtempSync(join(tmpdir(), 'dp-bench-'));
  writeFileSync(join(root, 'storage.cfg'), STORAGE_CFG);
  for (const node of NODES) mkdirSync(join(root, 'nodes', node, 'qemu-server'), { recursive: true });
  symlinkSync('nodes/pve1/qemu-server', join(root, 'qemu-server'));
  for (let i = 0; i < vms; i++) {
    const vmid = 100 + i;
    writeFileSync(join(root, 'nodes', NODES[i % NODES.length]!, 'qemu-server', `${vmid}.conf`), vmConfig(vmid));
  }
  return root;
}

// `npx tsx bench/lib/etc-pve-tree.ts 5000` prints the path of a new tree (for profiling by hand).
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${writeEtcPveTree(Number(process.argv[2] ?? 5000))}\n`);
