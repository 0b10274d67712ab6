// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Guest-side facts the gates need: which OS family, which disks it boots from, and what the
 * guest sees when a controller changes (docs/how-qemu-server-decides.md#guest-safety).
 */
import { BOOT_FORMAT, getPart, printPropertyString, propertyValue, scanPropertyString, setPart } from '../pve/index.js';

const WINDOWS_OSTYPES = new Set(['wxp', 'w2k', 'w2k3', 'w2k8', 'wvista', 'win7', 'win8', 'win10', 'win11']);
const LINUX_OSTYPES = new Set(['l24', 'l26']);

export type GuestFamily = 'windows' | 'linux' | 'other';

/** OS family from `ostype` (absent = `other`, PVE's default). */
export function guestFamily(ostype: string | null | undefined): GuestFamily {
  if (ostype && WINDOWS_OSTYPES.has(ostype)) return 'windows';
  if (ostype && LINUX_OSTYPES.has(ostype)) return 'linux';
  return 'other';
}

/** scsihw values whose guest driver is VirtIO SCSI (vioscsi / virtio_scsi). */
export function isVirtioScsi(scsihw: string | null | undefined): boolean {
  return scsihw === 'virtio-scsi-pci' || scsihw === 'virtio-scsi-single';
}

/** The `order=` list of a `boot` value, or null for the legacy format / absent key. */
export function bootOrder(boot: string | null | undefined): string[] | null {
  if (!boot) return null;
  const order = propertyValue(boot, BOOT_FORMAT, 'order');
  return order === undefined ? null : order.split(/[;\s]+/).filter((s) => s !== '');
}

/** Replace one device in the `order=` list, keeping every other byte of the `boot` value. */
export function renameInBootOrder(boot: string, from: string, to: string): string {
  const ps = scanPropertyString(boot, BOOT_FORMAT).ps;
  const order = getPart(ps, 'order');
  if (order === undefined) return boot;
  return printPropertyString(setPart(ps, 'order', order.split(';').map((d) => (d === from ? to : d)).join(';')));
}

/**
 * Disk keys the guest may boot from: the non-CD drives listed in `boot: order=…`; for the legacy
 * format `bootdisk`, else the first disk in PVE's auto-selection order (ide, scsi, virtio, sata).
 * `isDisk(key)` says whether a key is a present, non-CD, non-cloud-init drive.
 */
export function bootDiskCandidates(
  current: Record<string, string>,
  isDisk: (key: string) => boolean,
): string[] {
  const order = bootOrder(current.boot);
  if (order) return order.filter(isDisk);
  const legacy = current.bootdisk;
  if (legacy && isDisk(legacy)) return [legacy];
  for (const bus of ['ide', 'scsi', 'virtio', 'sata']) {
    const keys = Object.keys(current)
      .filter((k) => new RegExp(`^${bus}\\d+$`).test(k) && isDisk(k))
      .sort((a, b) => Number(a.slice(bus.length)) - Number(b.slice(bus.length)));
    if (keys.length > 0) return [keys[0]!];
  }
  return [];
}
