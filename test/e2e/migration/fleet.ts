// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A mixed fleet for the migration end-to-end tests: config files as PVE writes them (keys sorted,
 * drive strings canonical), each VM chosen for one behaviour of the planner or the engine.
 */
import type { ConfigFileSpec } from '../../../api-shim/simulator/index.js';
import { conf } from './helpers.js';

const UUID = (n: number) => `smbios1: uuid=0000${n}-1111-2222-3333-444444444444`;

/** Linux on the default LSI controller, two disks with many options, a CD and an EFI disk. */
export const LINUX_LSI = (vmid: number): string =>
  conf(
    'agent: 1',
    'bios: ovmf',
    'boot: order=scsi0;ide2;net0',
    'cores: 2',
    `efidisk0: local-lvm:vm-${vmid}-disk-9,efitype=4m,pre-enrolled-keys=1,size=4M`,
    'ide2: local:iso/debian-12.7.0-amd64-netinst.iso,media=cdrom,size=631M',
    'memory: 2048',
    `name: web-${vmid}`,
    'net0: virtio=BC:24:11:00:00:01,bridge=vmbr0',
    'ostype: l26',
    `scsi0: local-lvm:vm-${vmid}-disk-0,discard=on,serial=ROOT${vmid},size=32G,ssd=1`,
    `scsi1: local-lvm:vm-${vmid}-disk-1,backup=0,cache=writeback,mbps_rd=200,replicate=0,size=100G`,
    UUID(vmid),
  );

export const MIXED: (ConfigFileSpec & { expect: 'migrated' | 'skipped' | 'failed'; gate?: string })[] = [
  { vmid: 101, text: LINUX_LSI(101), status: 'running', expect: 'migrated' },
  {
    vmid: 102,
    status: 'stopped',
    expect: 'migrated',
    text: conf(
      'boot: order=virtio0',
      'ide0: local-lvm:vm-102-cloudinit,media=cdrom',
      'ipconfig0: ip=dhcp',
      'memory: 1024',
      'name: ci-102',
      'ostype: l26',
      'scsihw: virtio-scsi-pci',
      'virtio0: local-lvm:vm-102-disk-0,aio=native,cache=none,iothread=1,size=16G',
      'virtio1: local-zfs:vm-102-disk-1,discard=on,size=64G',
    ),
  },
  {
    vmid: 103,
    status: 'running',
    expect: 'skipped',
    gate: 'WINDOWS_BOOT_CONTROLLER',
    text: conf(
      'boot: order=scsi0;ide2',
      'ide2: none,media=cdrom',
      'machine: pc-q35-8.1',
      'memory: 8192',
      'name: win-ad-103',
      'ostype: win10',
      'scsi0: local-lvm:vm-103-disk-0,discard=on,size=80G',
    ),
  },
  {
    vmid: 104,
    status: 'running',
    expect: 'migrated',
    text: conf(
      'agent: 1',
      'bios: ovmf',
      'boot: order=scsi0;ide2',
      'efidisk0: local-lvm:vm-104-disk-2,efitype=4m,ms-cert=2023,pre-enrolled-keys=1,size=4M',
      'ide2: local:iso/virtio-win-0.1.262.iso,media=cdrom,size=708140K',
      'machine: pc-q35-9.2+pve1',
      'memory: 8192',
      'name: win-sql-104',
      'ostype: win11',
      'scsi0: local-lvm:vm-104-disk-0,cache=writeback,discard=on,size=120G',
      'scsihw: virtio-scsi-pci',
      'tpmstate0: local-lvm:vm-104-disk-1,size=4M,version=v2.0',
    ),
  },
  { vmid: 105, status: 'running', expect: 'skipped', gate: 'VM_LOCKED', text: LINUX_LSI(105).replace('memory: 2048\n', 'lock: backup\nmemory: 2048\n') },
  { vmid: 106, status: 'stopped', expect: 'skipped', gate: 'VM_TEMPLATE', text: LINUX_LSI(106).replace(`${UUID(106)}\n`, `${UUID(106)}\ntemplate: 1\n`) },
  { vmid: 107, status: 'running', expect: 'skipped', gate: 'FOREIGN_PENDING', text: LINUX_LSI(107) + '\n[PENDING]\nmemory: 4096\n' },
  {
    vmid: 108,
    status: 'running',
    expect: 'skipped',
    gate: 'PASSTHROUGH_ROOT_ONLY',
    text: LINUX_LSI(108).replace(UUID(108), `scsi2: /dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-1234,backup=0,size=3907018584K\n${UUID(108)}`),
  },
  {
    vmid: 109,
    status: 'running',
    expect: 'migrated',
    ha: { state: 'started' },
    text: LINUX_LSI(109),
  },
  {
    vmid: 110,
    status: 'running',
    expect: 'skipped',
    text: conf(
      'memory: 2048',
      'name: done-110',
      'ostype: l26',
      'scsi0: local-lvm:vm-110-disk-0,aio=threads,iothread=1,size=32G',
      'scsihw: virtio-scsi-single',
    ),
  },
  { vmid: 111, status: 'running', expect: 'failed', guest: { ignoresAcpi: true }, text: LINUX_LSI(111).replace('agent: 1\n', '') },
  {
    vmid: 112,
    status: 'running',
    expect: 'migrated',
    text: conf(
      'memory: 4096',
      'name: ceph-112',
      'ostype: l26',
      'scsihw: virtio-scsi-pci',
      'virtio0: ceph-vm:vm-112-disk-0,discard=on,size=50G',
      'virtio1: ceph-krbd:vm-112-disk-1,cache=writeback,size=20G',
    ),
  },
];
