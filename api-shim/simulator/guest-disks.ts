// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The disks a running guest OS sees: the drives of the VM's current (main) section - the running
 * set, since hot-plugged changes commit there and cold-start-only ones stay in [PENDING] - minus
 * the ones whose controller driver the guest lacks (`guest.missingDrivers`).
 *
 * Serials follow QEMU: `serial=` (URL-decoded) when set; IDE/SATA disks default to `QM%05d`
 * (a counter over every IDE device, CD-ROMs included); a SCSI disk without one reports its drive
 * id `drive-scsiN` as device id (which Linux shows as the serial, Windows does not); virtio-blk
 * has none.
 */
import { decodeUrlValue, getPart, parseSize, sectionDrives, type Drive, type VmConfigFile } from '../../src/pve/index.js';

export type GuestOs = 'windows' | 'linux';

/** One block device of the guest. */
export interface GuestDisk {
  /** Config key, e.g. `scsi1`. */
  key: string;
  bus: 'ide' | 'sata' | 'scsi' | 'virtio';
  cdrom: boolean;
  /** `serial=` decoded, or QEMU's default for the bus ('' when none). */
  serial: string;
  /** What Linux reports as serial (udev's ID_SERIAL_SHORT): the SCSI device id when no serial is set. */
  linuxSerial: string;
  sizeBytes: number;
  /** First disk of the boot order. */
  boot: boolean;
  /** SCSI controller model for scsi disks (`lsi` when `scsihw` is absent). */
  scsihw: string | null;
  /** Controller number and unit, for HCTL and locations. */
  controller: number;
  unit: number;
}

/** Guest driver per controller. A guest without it does not see the disks behind it. */
const DRIVERS: Record<GuestOs, Record<string, string>> = {
  windows: {
    ide: 'pciide', sata: 'storahci', virtio: 'viostor', lsi: 'lsi_scsi', lsi53c810: 'lsi_scsi', megasas: 'megasas',
    pvscsi: 'pvscsi', 'virtio-scsi-pci': 'vioscsi', 'virtio-scsi-single': 'vioscsi',
  },
  linux: {
    ide: 'ata_piix', sata: 'ahci', virtio: 'virtio_blk', lsi: 'sym53c8xx', lsi53c810: 'sym53c8xx', megasas: 'megaraid_sas',
    pvscsi: 'vmw_pvscsi', 'virtio-scsi-pci': 'virtio_scsi', 'virtio-scsi-single': 'virtio_scsi',
  },
};

/** The guest driver a disk needs (`vioscsi`, `virtio_scsi`, `storahci`...). */
export function driverFor(os: GuestOs, disk: Pick<GuestDisk, 'bus' | 'scsihw'>): string {
  return DRIVERS[os][disk.bus === 'scsi' ? (disk.scsihw ?? 'lsi') : disk.bus] ?? 'unknown';
}

/** Windows for `ostype` w*, else Linux (l26, l24, other, solaris all answer like a Unix). */
export function guestOs(ostype: string | undefined): GuestOs {
  return ostype && /^w/.test(ostype) ? 'windows' : 'linux';
}

function isCdrom(d: Drive): boolean {
  return d.isCdrom || d.isCloudinit || d.file === 'none' || d.file === 'cdrom';
}

/** qemu-server's devices per SCSI controller: 7 on lsi, 1 on virtio-scsi-single, else 256. */
function scsiPerController(scsihw: string): number {
  if (scsihw.startsWith('lsi')) return 7;
  return scsihw === 'virtio-scsi-single' ? 1 : 256;
}

/** Every disk and CD-ROM of the running config, in PVE's drive order, before driver filtering. */
export function runningBlockDevices(file: VmConfigFile): GuestDisk[] {
  const scsihw = file.main.entries.get('scsihw')?.value ?? 'lsi';
  const bootOrder = /(?:^|,)order=([^,]+)/.exec(file.main.entries.get('boot')?.value ?? '')?.[1]?.split(';') ?? [];
  let ideSerial = 0;
  const out: GuestDisk[] = [];
  for (const d of sectionDrives(file, 'main')) {
    if (d.kind !== 'ide' && d.kind !== 'sata' && d.kind !== 'scsi' && d.kind !== 'virtio') continue;
    const cdrom = isCdrom(d);
    if (d.file === 'none' && !cdrom) continue;
    const set = getPart(d.options, 'serial');
    let serial = set !== undefined ? decodeUrlValue(set) : '';
    if (d.kind === 'ide' || d.kind === 'sata') {
      ideSerial++;
      if (!serial) serial = `QM${String(ideSerial).padStart(5, '0')}`;
    }
    const size = getPart(d.options, 'size');
    const bytes = size ? parseSize(size) : null;
    const per = d.kind === 'scsi' ? scsiPerController(scsihw) : d.kind === 'sata' ? 6 : d.kind === 'ide' ? 2 : 1;
    out.push({
      key: d.key,
      bus: d.kind,
      cdrom,
      serial,
      linuxSerial: serial || (d.kind === 'scsi' ? `drive-${d.key}` : ''),
      sizeBytes: bytes === null ? 0 : Number(bytes),
      boot: false,
      scsihw: d.kind === 'scsi' ? scsihw : null,
      controller: Math.floor(d.index / per),
      unit: d.index % per,
    });
  }
  const bootKey = bootOrder.find((k) => out.some((x) => x.key === k && !x.cdrom)) ?? out.find((x) => !x.cdrom)?.key;
  for (const x of out) x.boot = x.key === bootKey;
  return out;
}

/** The block devices a guest sees: its drivers decide which controllers show up. */
export function visibleBlockDevices(file: VmConfigFile, os: GuestOs, missingDrivers: readonly string[] = []): GuestDisk[] {
  const missing = new Set(missingDrivers);
  return runningBlockDevices(file).filter((d) => !missing.has(driverFor(os, d)));
}
