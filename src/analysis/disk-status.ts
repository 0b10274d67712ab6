// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Effective status of one disk: the QEMU device, the controller it hangs on, whether an IO thread is
 * really attached, the aio mode QEMU really uses and whether the cache is O_DIRECT, exactly as
 * qemu-server 9.2.6 builds the command line (docs/how-qemu-server-decides.md#controllers).
 *
 * Pure: the same drive, config and storage give the same facts, in Node and in the browser.
 */
import { driveOption, isTrue, storageContent, storageEnabled, storageOnNode } from '../pve/index.js';
import type { Drive, StorageEntry, StorageMap } from '../pve/types.js';
import type { AioMode, Deviation, DiskFacts, QemuDevice, UnknownFact } from './types.js';
import type { ResolvedMachine } from './machine.js';
import { machineAtLeast } from './version.js';

/** VM-wide inputs of the per-disk rules. */
export interface DiskContext {
  /** Raw `scsihw` value; null when unset (PVE then uses lsi). */
  scsihw: string | null;
  machine: ResolvedMachine;
  /** `template: 1`: IDE and SATA disks become ide-cd (docs/how-qemu-server-decides.md#machine-version). */
  template: boolean;
  storages: StorageMap;
  /** Storages whose type cannot be read (id → why, e.g. the token lacks Datastore.Audit); they exist. */
  unreadableStorages?: Record<string, string>;
  /** Offline without a usable storage.cfg: why every storage not in `storages` has an unknown type. */
  storageTypesUnknown?: string;
  /** The node the VM starts on, when known (a storage's `nodes` list is checked against it). */
  node?: string | null;
}

/**
 * Why the type of the drive's storage is unknown (unreadable, or no storage.cfg at all), or null
 * when it is known, when the drive names no storage, or when the storage really is missing.
 */
export function storageTypeUnknownReason(storageId: string | null, ctx: Pick<DiskContext, 'storages' | 'unreadableStorages' | 'storageTypesUnknown'>): string | null {
  if (storageId === null || ctx.storages.has(storageId)) return null;
  return ctx.unreadableStorages?.[storageId] ?? ctx.storageTypesUnknown ?? null;
}

/** The reason a fact could not be determined, or null when it is known (see `DiskFacts.unknown`). */
export function unknownReason(facts: Pick<DiskFacts, 'unknown'>, field: UnknownFact['field']): string | null {
  return facts.unknown?.find((u) => u.field === field)?.reason ?? null;
}

/**
 * Driver of the block node that holds the data, as the storage's path gives it (docs/how-qemu-server-decides.md#aio):
 * `file`/`host_device`/`host_cdrom` take an aio mode, the network drivers do not.
 */
export type FileDriver = 'file' | 'host_device' | 'host_cdrom' | 'rbd' | 'iscsi' | 'nbd' | 'pbs' | 'gluster' | 'unknown';

const AIO_MODES: readonly string[] = ['io_uring', 'native', 'threads'];
const FILE_LIKE: ReadonlySet<FileDriver> = new Set(['file', 'host_device', 'host_cdrom', 'unknown']);

/** The effective scsihw (`lsi` when unset or blank, as qemu-server's `!$conf->{scsihw}` tests). */
export function effectiveScsihw(scsihw: string | null): string {
  return scsihw === null || scsihw === '' ? 'lsi' : scsihw;
}

/**
 * The file-node driver of a drive. Storage types are mapped by the path their plugin returns:
 * files for dir/nfs/cifs/cephfs/btrfs/esxi, `/dev/…` for lvm/lvmthin/zfspool/iscsi and krbd,
 * `rbd:` for librbd, `iscsi://` for iscsidirect and ZFS over iSCSI (`zfs`).
 */
export function fileDriver(drive: Pick<Drive, 'file'>, storage: StorageEntry | undefined): FileDriver {
  if (drive.file === 'cdrom') return 'host_cdrom';
  if (drive.file.startsWith('/')) return drive.file.startsWith('/dev/') ? 'host_device' : 'file';
  if (!storage) return 'unknown';
  switch (storage.type) {
    case 'dir':
    case 'nfs':
    case 'cifs':
    case 'cephfs':
    case 'btrfs':
    case 'esxi':
      return 'file';
    case 'lvm':
    case 'lvmthin':
    case 'zfspool':
    case 'iscsi':
      return 'host_device';
    case 'rbd':
      return isTrue(storage.props.krbd) ? 'host_device' : 'rbd';
    case 'iscsidirect':
    case 'zfs':
      return 'iscsi';
    case 'pbs':
      return 'pbs';
    case 'glusterfs':
      return 'gluster';
    default:
      return 'unknown';
  }
}

/** Short label of a storage for deviations: `lvm`, `cifs`, `krbd`, `librbd`. */
function storageLabel(storage: StorageEntry | undefined): string {
  if (!storage) return 'no storage';
  if (storage.type === 'rbd') return isTrue(storage.props.krbd) ? 'krbd' : 'librbd';
  if (storage.type === 'zfs') return 'ZFS over iSCSI';
  return storage.type;
}

/**
 * O_DIRECT (Drive.pm `drive_uses_cache_direct`): an explicit cache is direct for none/directsync
 * (the regex also takes `off`); an unset cache is direct except for `media=cdrom` (cloud-init
 * without media=cdrom does not count, docs/how-qemu-server-decides.md#drive-keys) and btrfs without `nocow`.
 */
export function cacheIsDirect(drive: Drive, storage: StorageEntry | undefined): boolean {
  const cache = driveOption(drive, 'cache');
  if (cache) return /^(?:off|none|directsync)$/.test(cache);
  if (drive.isCdrom) return false;
  return !(storage?.type === 'btrfs' && !isTrue(storage.props.nocow));
}

/**
 * Drive.pm `storage_allows_io_uring_default`: io_uring is not the default on plain LVM, on CIFS,
 * and on krbd with a non-direct cache ("will hang").
 */
export function storageAllowsIoUringDefault(storage: StorageEntry | undefined, direct: boolean): boolean {
  if (!storage) return true;
  if (storage.type === 'lvm' || storage.type === 'cifs') return false;
  if (storage.type === 'rbd' && isTrue(storage.props.krbd) && !direct) return false;
  return true;
}

/** Drive.pm `aio_cmdline_option`: explicit verbatim, else io_uring where allowed, else native/threads. */
export function defaultAio(storage: StorageEntry | undefined, direct: boolean): AioMode {
  if (storageAllowsIoUringDefault(storage, direct)) return 'io_uring';
  return direct ? 'native' : 'threads';
}

/**
 * The content type qemu-server checks a volume against (pve-storage `parse_volname`): on the path-based
 * plugins (Plugin.pm `parse_volname`; their volumes are files, see `fileDriver`) `iso/NAME.iso|img` is
 * an ISO image and `VMID/NAME` a disk image; the block plugins (lvm, lvmthin, zfspool, rbd, iscsi, zfs,
 * iscsidirect) hold disk images only. Null where the storage type is not known or the name is none of
 * these (ESXi, PBS and other types are not started from).
 */
export function volumeContentType(drive: Pick<Drive, 'file' | 'storage'>, storage: StorageEntry | undefined): 'iso' | 'images' | null {
  if (drive.storage === null || !storage) return null;
  const driver = fileDriver(drive, storage);
  if (driver === 'file' || driver === 'gluster') {
    const volname = drive.file.slice(drive.storage.length + 1);
    if (/^iso\/[^/]+\.(?:iso|img)$/i.test(volname)) return 'iso';
    return /^\d+\//.test(volname) ? 'images' : null;
  }
  return driver === 'host_device' || driver === 'rbd' || driver === 'iscsi' ? 'images' : null;
}

/**
 * QemuServer.pm `check_volume_storage_type`, which vm_start runs for every volume of the config
 * (each drive incl. efidisk0 and tpmstate0, and the `vmstate` of a hibernated VM): the storage's
 * content types (as PVE holds them: a missing `content` line is the plugin's default) must include
 * the volume's. Null when it passes or cannot be told (unknown storage or plugin type).
 */
export function volumeContentError(volume: Pick<Drive, 'file' | 'storage'>, storage: StorageEntry | undefined): string | null {
  const vtype = volumeContentType(volume, storage);
  const content = vtype === null ? null : storageContent(storage as StorageEntry);
  if (content === null || content.has(vtype as string)) return null;
  return `storage '${volume.storage}' does not support content-type '${vtype}'`;
}

/**
 * pve-storage `storage_check_enabled` / `storage_check_node`, which vm_start runs when it activates
 * the volumes: a storage set `disable`, or whose `nodes` list lacks the VM's node (unchecked when the
 * node is unknown). Null when it passes or the storage is not known.
 */
export function storageActivationError(storageId: string | null, storage: StorageEntry | undefined, node: string | null | undefined): string | null {
  if (storageId === null || !storage) return null;
  if (!storageEnabled(storage)) return `storage '${storageId}' is disabled`;
  if (node && !storageOnNode(storage, node)) return `storage '${storageId}' is not available on node '${node}'`;
  return null;
}

/**
 * What qemu-server refuses at start about a drive's volume: a storage that does not hold its content
 * type (`volumeContentError`), and, since qemu-server 8.3.10, an ISO image without an explicit `media=`
 * (print_drive_commandline_full and Blockdev.pm: `media` defaults to disk, which would attach the ISO
 * read-write).
 */
function contentStartErrors(drive: Drive, storage: StorageEntry | undefined): string[] {
  const out: string[] = [];
  const contentError = volumeContentError(drive, storage);
  if (contentError !== null) out.push(contentError);
  if (volumeContentType(drive, storage) === 'iso' && driveOption(drive, 'media') === undefined) {
    out.push(`${drive.key}: explicit media parameter is required for iso images`);
  }
  return out;
}

interface Controller {
  name: string | null;
  id: string | null;
  iothread: boolean;
  deviations: Deviation[];
}

function ideController(index: number, ctx: DiskContext): Controller {
  if (ctx.machine.type === 'q35') {
    // q35 has one unit per IDE bus of the ICH9 AHCI: odd indices move up by two buses.
    const bus = Math.floor(index / 2) + 2 * (index % 2);
    const deviations: Deviation[] =
      index % 2 === 1
        ? [{ field: 'controllerId', configured: `ide.${Math.floor(index / 2)}`, effective: `ide.${bus}`, because: { code: 'q35-ide-bus', index, bus } }]
        : [];
    return { name: 'ich9-ahci', id: `ide.${bus}`, iothread: false, deviations };
  }
  return { name: 'ide', id: `ide.${Math.floor(index / 2)}`, iothread: false, deviations: [] };
}

/** The scsihw values qemu-server knows (the rest are passed to QEMU verbatim). */
const KNOWN_SCSIHW: readonly string[] = ['lsi', 'lsi53c810', 'megasas', 'pvscsi', 'virtio-scsi-pci', 'virtio-scsi-single'];

/**
 * qemu-server `scsihw_infos` + the config_to_command drive loop: lsi* hold 7 disks per controller,
 * virtio-scsi-single 1, everything else (incl. a verbatim unknown value, docs/how-qemu-server-decides.md#reading-the-config) 256; only
 * virtio-scsi-single attaches an IO thread.
 */
function scsiController(index: number, iothread: boolean, ctx: DiskContext): Controller {
  const scsihw = effectiveScsihw(ctx.scsihw);
  const single = scsihw === 'virtio-scsi-single';
  const perController = /^lsi/.test(scsihw) ? 7 : single ? 1 : 256;
  const prefix = single ? 'virtioscsi' : 'scsihw';
  const id = `${prefix}${Math.floor(index / perController)}`;
  const name = /^virtio-scsi-single/.test(scsihw) ? 'virtio-scsi-pci' : scsihw;
  const deviations: Deviation[] = [];
  if (!KNOWN_SCSIHW.includes(scsihw)) {
    deviations.push({ field: 'controller', configured: scsihw, effective: scsihw, because: { code: 'scsihw-verbatim', scsihw } });
  }
  if (iothread && !single) {
    deviations.push({ field: 'iothread', configured: true, effective: false, because: { code: 'scsihw-not-single', scsihw } });
  }
  return { name, id, iothread: iothread && single, deviations };
}

/**
 * The SCSI frontend; null when it depends on the type of a storage that cannot be read (only
 * iSCSI volumes on machine < 4.1 become scsi-generic, docs/how-qemu-server-decides.md#controllers).
 */
function scsiDevice(drive: Drive, ctx: DiskContext, storage: StorageEntry | undefined, typeUnknown: boolean, deviations: Deviation[]): QemuDevice | null {
  // Drive.pm get_scsi_device_type: cloud-init counts as a CD for the SCSI frontend only (docs/how-qemu-server-decides.md#drive-keys).
  if (drive.isCdrom || drive.isCloudinit) return 'scsi-cd';
  if (drive.file.startsWith('/dev/')) {
    // Decided at start by a SCSI INQUIRY on the host device; offline we cannot ask (docs/how-qemu-server-decides.md#controllers).
    deviations.push({ field: 'qemuDevice', configured: null, effective: 'scsi-hd', because: { code: 'passthrough', scsiblock: isTrue(driveOption(drive, 'scsiblock')) } });
  }
  if (!machineAtLeast(ctx.machine.version, 4, 1)) {
    if (typeUnknown) {
      deviations.push({ field: 'qemuDevice', configured: null, effective: null, because: { code: 'old-machine-iscsi', storageKnown: false } });
      return null;
    }
    if (storage?.type === 'iscsidirect' || storage?.type === 'zfs') {
      deviations.push({ field: 'qemuDevice', configured: null, effective: 'scsi-generic', because: { code: 'old-machine-iscsi', storageKnown: true } });
      return 'scsi-generic';
    }
  }
  return 'scsi-hd';
}

/**
 * Facts for a drive that never reaches QEMU (PVE drops the line or leaves it off the command line).
 */
export function detachedFacts(drive: Drive, reason: string): DiskFacts {
  const aio = driveOption(drive, 'aio');
  return {
    qemuDevice: null,
    controller: null,
    controllerId: null,
    iothread: { configured: isTrue(driveOption(drive, 'iothread')), effective: false },
    aio: { configured: aio !== undefined && AIO_MODES.includes(aio) ? (aio as AioMode) : null, effective: null },
    cacheDirect: null,
    cache: driveOption(drive, 'cache') ?? null,
    deviations: [{ field: 'qemuDevice', configured: drive.key, effective: null, because: { code: 'not-attached', reason } }],
    startError: null,
  };
}

/**
 * What QEMU really gets for one ide/sata/scsi/virtio drive (not efidisk/tpmstate/unused, which sit on
 * no controller). `drive` must be valid for PVE; use `detachedFacts` for drives PVE drops.
 */
export function diskFacts(drive: Drive, ctx: DiskContext): DiskFacts {
  const deviations: Deviation[] = [];
  const startErrors: string[] = [];
  const storage = drive.storage === null ? undefined : ctx.storages.get(drive.storage);
  const index = drive.index;
  const iothreadConfigured = drive.kind === 'scsi' || drive.kind === 'virtio' ? isTrue(driveOption(drive, 'iothread')) : false;
  const aioText = driveOption(drive, 'aio');
  const aioConfigured = aioText !== undefined && AIO_MODES.includes(aioText) ? (aioText as AioMode) : null;
  const hasMedium = drive.file !== 'none';
  // A storage whose type we cannot see: the facts that depend on the type are reported as unknown,
  // never guessed. A storage really missing from the storage.cfg that was read stops the VM anyway.
  const typeUnknown = storageTypeUnknownReason(drive.storage, ctx);
  const unknown: UnknownFact[] = [];
  const unknownFact = (field: UnknownFact['field']): void => void unknown.push({ field, reason: typeUnknown as string });

  if (drive.storage !== null && !storage && typeUnknown === null) {
    startErrors.push(`storage '${drive.storage}' does not exist`);
    deviations.push({ field: 'storage', configured: drive.storage, effective: null, because: { code: 'storage-missing', storage: drive.storage } });
  }

  startErrors.push(...contentStartErrors(drive, storage));
  const activation = storageActivationError(drive.storage, storage, ctx.node);
  if (activation !== null) startErrors.push(activation);

  // --- controller, device, IO thread (table A) ---
  let qemuDevice: QemuDevice | null;
  let controller: Controller;
  switch (drive.kind) {
    case 'ide':
    case 'sata': {
      controller = drive.kind === 'ide' ? ideController(index, ctx) : { name: 'ahci', id: 'ahci0', iothread: false, deviations: [] };
      if (ctx.template && !drive.isCdrom) {
        deviations.push({ field: 'qemuDevice', configured: 'ide-hd', effective: 'ide-cd', because: { code: 'template-ide-cd', bus: drive.kind } });
        qemuDevice = 'ide-cd';
      } else {
        qemuDevice = drive.isCdrom ? 'ide-cd' : 'ide-hd';
      }
      break;
    }
    case 'scsi': {
      controller = scsiController(index, iothreadConfigured, ctx);
      qemuDevice = scsiDevice(drive, ctx, storage, typeUnknown !== null, deviations);
      if (qemuDevice === null) unknownFact('qemuDevice');
      if (index > 13 && !machineAtLeast(ctx.machine.version, 4, 1, 2)) {
        startErrors.push(`scsi${index}: machine version 4.1~pve2 or higher is required to use more than 14 SCSI disks`);
      }
      if (!hasMedium && !drive.isCdrom) {
        // Only the API adds media=cdrom to `none`; a file line is taken as written (docs/how-qemu-server-decides.md#drive-keys).
        startErrors.push(`scsi${index}: an empty drive (none) on SCSI needs media=cdrom, QEMU refuses to start`);
      }
      break;
    }
    case 'virtio': {
      controller = { name: null, id: null, iothread: iothreadConfigured, deviations: [] };
      qemuDevice = 'virtio-blk-pci';
      break;
    }
    default:
      throw new Error(`diskFacts: ${drive.key} is not on a disk controller`);
  }
  deviations.push(...controller.deviations);

  if (isTrue(driveOption(drive, 'snapshot')) && ctx.machine.blockdev) {
    startErrors.push(`${drive.key}: 'snapshot' option is not yet supported for '-blockdev'`);
  }

  // --- cache.direct and aio (table B) ---
  let cacheDirect: boolean | null = null;
  let aioEffective: AioMode | null = null;
  if (!hasMedium) {
    deviations.push({ field: 'aio', configured: aioConfigured, effective: null, because: { code: 'no-medium' } });
  } else if (typeUnknown !== null) {
    const cache = driveOption(drive, 'cache');
    // cache.direct: an explicit cache and a CD-ROM decide alone; else btrfs without nocow is not direct (docs/how-qemu-server-decides.md#aio).
    const direct = cache || drive.isCdrom ? cacheIsDirect(drive, undefined) : null;
    // aio: under -blockdev the storage decides whether there is aio at all (librbd, iSCSI, NBD, PBS
    // get none, docs/how-qemu-server-decides.md#aio); unset, it decides the default (LVM, CIFS, krbd, docs/how-qemu-server-decides.md#aio). An explicit aio on
    // -drive is always passed (docs/how-qemu-server-decides.md#aio).
    if (ctx.machine.blockdev || !aioConfigured) unknownFact('aio');
    else aioEffective = aioConfigured;
    cacheDirect = direct;
    if (direct === null) unknownFact('cacheDirect');
    if (aioConfigured === 'native' && direct !== true) {
      deviations.push({
        field: 'cacheDirect',
        configured: driveOption(drive, 'cache') ?? null,
        effective: direct,
        because: { code: 'native-needs-direct', storage: drive.storage as string, directUnknown: direct === null },
      });
    }
  } else {
    const direct = cacheIsDirect(drive, storage);
    cacheDirect = direct;
    if (!driveOption(drive, 'cache') && !direct) {
      deviations.push({ field: 'cacheDirect', configured: null, effective: false, because: { code: 'cache-default-not-direct', why: drive.isCdrom ? 'cdrom' : 'btrfs-cow' } });
    }
    const driver = fileDriver(drive, storage);
    if (driver === 'unknown' && storage) {
      deviations.push({ field: 'aio', configured: aioConfigured, effective: null, because: { code: 'storage-type-not-builtin', type: storage.type } });
    }
    const takesAio = FILE_LIKE.has(driver);
    if (ctx.machine.blockdev && !takesAio) {
      deviations.push({ field: 'aio', configured: aioConfigured, effective: null, because: { code: 'blockdev-no-aio', storage: storageLabel(storage) } });
    } else {
      if (aioConfigured) {
        aioEffective = aioConfigured;
      } else {
        aioEffective = defaultAio(storage, direct);
        if (aioEffective !== 'io_uring') {
          deviations.push({
            field: 'aio',
            configured: null,
            effective: aioEffective,
            because: { code: 'aio-default', storage: storageLabel(storage), direct, cache: driveOption(drive, 'cache') ?? null, cdrom: drive.isCdrom },
          });
        }
      }
      if (!takesAio) {
        deviations.push({ field: 'aio', configured: aioConfigured, effective: aioEffective, because: { code: 'drive-aio-unverified', driver } });
      } else if (aioEffective === 'native' && !direct) {
        startErrors.push('aio=native was specified, but it requires cache.direct=on, which was not specified.');
      }
    }
  }

  if (typeUnknown !== null) {
    deviations.unshift({
      field: 'storage',
      configured: drive.storage,
      effective: null,
      because: { code: 'storage-type-unknown', storage: drive.storage as string, why: typeUnknown, fields: unknown.map((u) => u.field) },
    });
  }

  const facts: DiskFacts = {
    qemuDevice,
    controller: controller.name,
    controllerId: controller.id,
    iothread: { configured: iothreadConfigured, effective: controller.iothread },
    aio: { configured: aioConfigured, effective: aioEffective },
    cacheDirect,
    cache: driveOption(drive, 'cache') ?? null,
    deviations,
    startError: startErrors.length > 0 ? startErrors.join('; ') : null,
  };
  if (unknown.length > 0) facts.unknown = unknown;
  return facts;
}
