// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Which volumes support snapshot, clone and copy (pve-storage `volume_has_feature` per plugin):
 * file-based storages only for qcow2 (copy also raw/vmdk), thin and copy-on-write backends
 * (lvmthin, zfspool, rbd, btrfs) always, thick LVM only for copies, PBS/iSCSI never. Clone is
 * a linked clone and needs a base volume (a template's `base-` volume).
 */
import type { StorageInfo } from './volumes.js';

export type VolumeFeature = 'snapshot' | 'clone' | 'copy';

const FILE_TYPES = new Set(['dir', 'nfs', 'cifs', 'cephfs', 'glusterfs']);
const COW_TYPES = new Set(['lvmthin', 'zfspool', 'rbd', 'btrfs']);

/** True when `feature` is available for volume `volid` on storage `s`. */
export function volumeHasFeature(s: StorageInfo, volid: string, feature: VolumeFeature): boolean {
  const name = volid.slice(volid.indexOf(':') + 1);
  const isBase = /(^|\/)base-\d+-/.test(name);
  if (feature === 'clone' && !isBase) return false;
  if (FILE_TYPES.has(s.type)) {
    const format = /\.(qcow2|raw|vmdk)$/.exec(name)?.[1] ?? 'raw';
    return feature === 'snapshot' ? format === 'qcow2' : true;
  }
  if (COW_TYPES.has(s.type)) return true;
  if (s.type === 'lvm') return feature === 'copy' || (feature === 'snapshot' && s.props['snapshot-as-volume-chain'] === '1');
  return false;
}
