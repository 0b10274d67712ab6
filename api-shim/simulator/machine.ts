// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The machine type a VM runs with, as qemu-server picks it at start (docs/how-qemu-server-decides.md#reading-the-config, docs/how-qemu-server-decides.md#machine-version):
 * a pinned `machine` as written (`+pve0` added), an unpinned Windows VM pinned to 5.1 or to its
 * `meta: creation-qemu` when that is >= 9.1, anything else the QEMU binary's version with the
 * highest PVE revision for it. This is what `running-machine` reports.
 */

/** Highest `+pveN` revision per QEMU machine version (QS Machine.pm $PVE_MACHINE_VERSION). */
const PVE_REVISION: Record<string, number> = { '4.1': 2, '9.2': 1, '10.0': 1, '11.0': 2 };

const WINDOWS = /^(wxp|w2k|w2k3|w2k8|wvista|win7|win8|win10|win11)$/;

function cmpVersion(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

/** `10.1.2` -> `10.1`. */
export function majorMinor(version: string): string {
  const [a = '0', b = '0'] = version.split('.');
  return `${a}.${b}`;
}

/** The machine type value of a `machine:` property string (`q35,viommu=virtio` -> `q35`). */
export function machineType(machine: string | undefined): string | undefined {
  if (!machine) return undefined;
  for (const part of machine.split(',')) {
    if (part.startsWith('type=')) return part.slice(5);
    if (!part.includes('=')) return part;
  }
  return undefined;
}

/**
 * `running-machine` for a VM started on a QEMU binary of `qemuVersion` (e.g. `10.1.2`).
 * @param config the config values in effect at start (after pending was applied)
 */
export function runningMachine(config: Record<string, string>, qemuVersion: string): string {
  const type = machineType(config.machine);
  const q35 = type !== undefined && /q35/.test(type);
  const prefix = q35 ? 'pc-q35' : 'pc-i440fx';
  const binary = majorMinor(qemuVersion);
  const pinned = type && /^(?:pc|pc-i440fx|pc-q35)-(\d+\.\d+)(\+pve\d+)?/.exec(type);
  if (pinned) return `${prefix}-${pinned[1]}${pinned[2] ?? '+pve0'}`;
  let version = binary;
  if (WINDOWS.test(config.ostype ?? '')) {
    const created = /creation-qemu=(\d+\.\d+)/.exec(config.meta ?? '')?.[1];
    version = created && cmpVersion(created, '9.1') >= 0 ? created : '5.1';
    if (cmpVersion(version, binary) > 0) version = binary;
  }
  return `${prefix}-${version}+pve${PVE_REVISION[version] ?? 0}`;
}

/** Machine versions a QEMU binary offers (for `/capabilities/qemu/machines`), newest first. */
export function machineVersions(qemuVersion: string): string[] {
  const known = ['11.0', '10.2', '10.1', '10.0', '9.2', '9.1', '9.0', '8.2', '8.1', '8.0', '7.2', '7.1', '7.0', '6.2', '6.1', '6.0', '5.2', '5.1', '5.0', '4.2', '4.1', '4.0'];
  const binary = majorMinor(qemuVersion);
  return known.filter((v) => cmpVersion(v, binary) <= 0);
}

/** PVE revisions of a machine version (`4.1` -> `+pve0`, `+pve1`, `+pve2`). */
export function pveRevisions(version: string): number[] {
  return Array.from({ length: (PVE_REVISION[version] ?? 0) + 1 }, (_, i) => i);
}
