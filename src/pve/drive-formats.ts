// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The drive property-string schemas per bus (qemu-server Drive.pm %drivedesc_base, $ide_fmt,
 * $scsi_fmt, $sata_fmt, $virtio_fmt, $efidisk_fmt, $tpmstate_fmt, unused), checked key by key
 * against the PVE 9.1 API schema (apidoc `PUT /nodes/{node}/qemu/{vmid}/config`) and the option
 * matrix of docs/how-qemu-server-decides.md#drive-keys.
 */
import type { DriveKeyKind } from './types.js';
import type { PropertyFormat, PropertySpec } from './property-string.js';

const bool: PropertySpec = { type: 'boolean' };
const int: PropertySpec = { type: 'integer' };
const num: PropertySpec = { type: 'number' };
const seconds: PropertySpec = { type: 'integer', minimum: 1 };
const enumOf = (...values: string[]): PropertySpec => ({ type: 'enum', values });

const file: PropertySpec = { type: 'string', defaultKey: true, optional: false, format: 'pve-volume-id-or-qm-path' };
const size: PropertySpec = { type: 'string', format: 'disk-size' };
const allFormats = enumOf('raw', 'qcow', 'qed', 'qcow2', 'vmdk', 'cloop');

/** Throttling options; `bps*` are legacy (converted to `mbps*` by parse_drive). */
const throttle: PropertyFormat = {
  mbps: num,
  mbps_rd: num,
  mbps_wr: num,
  mbps_max: num,
  mbps_rd_max: num,
  mbps_wr_max: num,
  iops: int,
  iops_rd: int,
  iops_wr: int,
  iops_max: int,
  iops_rd_max: int,
  iops_wr_max: int,
  bps: int,
  bps_rd: int,
  bps_wr: int,
  bps_max_length: seconds,
  bps_rd_max_length: seconds,
  bps_wr_max_length: seconds,
  iops_max_length: seconds,
  iops_rd_max_length: seconds,
  iops_wr_max_length: seconds,
  bps_rd_length: { alias: 'bps_rd_max_length' },
  bps_wr_length: { alias: 'bps_wr_max_length' },
  iops_rd_length: { alias: 'iops_rd_max_length' },
  iops_wr_length: { alias: 'iops_wr_max_length' },
};

/**
 * Pre-PVE-9 geometry options. PVE 9 no longer has them in its schema but still reads old lines and
 * silently drops them (docs/how-qemu-server-decides.md#drive-keys), so they are accepted here and left out of the canonical form.
 */
export const LEGACY_GEOMETRY_KEYS: readonly string[] = ['cyls', 'heads', 'secs', 'trans'];
const legacy: PropertyFormat = { cyls: int, heads: int, secs: int, trans: { type: 'string' } };

/** %drivedesc_base: what every ide/sata/scsi/virtio drive accepts. */
const base: PropertyFormat = {
  file,
  volume: { alias: 'file' },
  media: enumOf('cdrom', 'disk'),
  cache: enumOf('none', 'writethrough', 'writeback', 'unsafe', 'directsync'),
  format: allFormats,
  detect_zeroes: bool,
  discard: enumOf('ignore', 'on'),
  snapshot: bool,
  aio: enumOf('native', 'threads', 'io_uring'),
  backup: bool,
  replicate: bool,
  shared: bool,
  rerror: enumOf('ignore', 'report', 'stop'),
  werror: enumOf('enospc', 'ignore', 'report', 'stop'),
  serial: { type: 'string', format: 'urlencoded', maxLength: 60, urlEncoded: true },
  size,
  ...throttle,
  ...legacy,
};

const ssd = bool;
const wwn: PropertySpec = { type: 'string', pattern: /^0x[0-9a-fA-F]{16}$/ };

export const IDE_FORMAT: PropertyFormat = {
  ...base,
  ssd,
  wwn,
  model: { type: 'string', format: 'urlencoded', maxLength: 120, urlEncoded: true },
};

export const SATA_FORMAT: PropertyFormat = { ...base, ssd, wwn };

export const SCSI_FORMAT: PropertyFormat = {
  ...base,
  iothread: bool,
  ssd,
  wwn,
  ro: bool,
  queues: { type: 'integer', minimum: 2 },
  product: { type: 'string', pattern: /^[A-Za-z0-9\-_\s]{0,16}$/ },
  vendor: { type: 'string', pattern: /^[A-Za-z0-9\-_\s]{0,8}$/ },
  scsiblock: bool,
};

export const VIRTIO_FORMAT: PropertyFormat = { ...base, iothread: bool, ro: bool };

export const EFIDISK_FORMAT: PropertyFormat = {
  file,
  volume: { alias: 'file' },
  format: allFormats,
  size,
  efitype: enumOf('2m', '4m'),
  // The 9.1 schema lists 2011|2023; `2023w` is found in real 9.1 configs (fixture
  // idx32349187496-kubuntu-105) and accepted here so such a config is not reported as broken.
  'ms-cert': enumOf('2011', '2023', '2023w'),
  'pre-enrolled-keys': bool,
};

export const TPMSTATE_FORMAT: PropertyFormat = {
  file,
  volume: { alias: 'file' },
  format: enumOf('raw', 'qcow2', 'vmdk'),
  size,
  version: enumOf('v1.2', 'v2.0'),
};

export const UNUSED_FORMAT: PropertyFormat = {
  file: { type: 'string', defaultKey: true, optional: false, format: 'pve-volume-id' },
  volume: { alias: 'file' },
};

/** `import-from` exists only in the API's allocation schema (`STORAGE:0,import-from=...`). */
const importFrom: PropertyFormat = {
  'import-from': { type: 'string', format: 'pve-volume-id-or-absolute-path' },
};

const FORMATS: Record<DriveKeyKind, PropertyFormat> = {
  ide: IDE_FORMAT,
  sata: SATA_FORMAT,
  scsi: SCSI_FORMAT,
  virtio: VIRTIO_FORMAT,
  efidisk: EFIDISK_FORMAT,
  tpmstate: TPMSTATE_FORMAT,
  unused: UNUSED_FORMAT,
};

const ALLOC_FORMATS: Record<DriveKeyKind, PropertyFormat> = {
  ide: { ...IDE_FORMAT, ...importFrom },
  sata: { ...SATA_FORMAT, ...importFrom },
  scsi: { ...SCSI_FORMAT, ...importFrom },
  virtio: { ...VIRTIO_FORMAT, ...importFrom },
  efidisk: { ...EFIDISK_FORMAT, ...importFrom },
  tpmstate: { ...TPMSTATE_FORMAT, ...importFrom },
  unused: UNUSED_FORMAT,
};

/**
 * The schema of one drive kind. `alloc: true` adds `import-from`, which only the API accepts
 * (config files never contain it).
 */
export function driveFormat(kind: DriveKeyKind, opts: { alloc?: boolean } = {}): PropertyFormat {
  return (opts.alloc ? ALLOC_FORMATS : FORMATS)[kind];
}

/** $alldrive_fmt: the union PVE's print_drive uses, whatever the bus. */
export const ALL_DRIVE_FORMAT: PropertyFormat = {
  // tpmstate first: its narrower `format` enum must not override the general one.
  ...TPMSTATE_FORMAT,
  ...EFIDISK_FORMAT,
  ...IDE_FORMAT,
  ...SATA_FORMAT,
  ...SCSI_FORMAT,
  ...VIRTIO_FORMAT,
  ...importFrom,
};
