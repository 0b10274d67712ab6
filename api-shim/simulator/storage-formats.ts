// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Image formats per storage plugin, as pve-storage's plugindata `format` and `get_formats` give
 * them (Storage/*Plugin.pm), plus `select_existing` (iSCSI: the disk is picked from existing
 * LUNs). `/nodes/{node}/storage?format=1` reports these; the web UI's disk editor reads them.
 */
import type { StorageInfo } from './volumes.js';

/** Valid formats and the default per plugin type; types not listed know raw only. */
const PLUGIN_FORMATS: Record<string, { valid: string[]; default: string }> = {
  dir: { valid: ['qcow2', 'raw', 'subvol', 'vmdk'], default: 'raw' },
  nfs: { valid: ['qcow2', 'raw', 'vmdk'], default: 'raw' },
  cifs: { valid: ['qcow2', 'raw', 'vmdk'], default: 'raw' },
  esxi: { valid: ['qcow2', 'raw', 'vmdk'], default: 'raw' },
  btrfs: { valid: ['raw', 'subvol'], default: 'raw' },
  zfspool: { valid: ['raw', 'subvol'], default: 'raw' },
};

const SELECT_EXISTING = new Set(['iscsi', 'iscsidirect']);

export interface StorageFormats {
  supported: string[];
  default: string;
}

/** get_formats: LVM with snapshot-as-volume-chain takes qcow2; a `format` property sets the default. */
export function storageFormats(s: StorageInfo): StorageFormats {
  if (s.type === 'lvm') {
    return s.props['snapshot-as-volume-chain'] === '1' ? { supported: ['qcow2', 'raw'], default: 'qcow2' } : { supported: ['raw'], default: 'raw' };
  }
  const f = PLUGIN_FORMATS[s.type];
  if (!f) return { supported: ['raw'], default: 'raw' };
  return { supported: f.valid, default: s.props.format ?? f.default };
}

/**
 * The members `format=1` adds to a storage status entry: `formats`, the deprecated
 * `format: [{fmt: 1, ...}, default]` (still sent until PVE 10) and `select_existing` where set.
 */
export function formatMembers(s: StorageInfo): Record<string, unknown> {
  const f = storageFormats(s);
  return {
    formats: f,
    format: [Object.fromEntries(f.supported.map((x) => [x, 1])), f.default],
    ...(SELECT_EXISTING.has(s.type) ? { select_existing: 1 } : {}),
  };
}
