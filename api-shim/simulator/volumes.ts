// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Storages (from storage.cfg text) and the volumes on them. The API needs this to answer like
 * PVE when a drive is (re)submitted: a new `STORAGE:SIZE` allocates a volume, an existing volume
 * gets its `size=` rewritten from the storage, a missing one is an error (docs/how-qemu-server-decides.md#api).
 */
import { formatSize, parseSize, parseStorageCfg, volumeOwner } from '../../src/pve/index.js';

/** Storage plugin types whose volumes are files named `<vmid>/vm-<vmid>-disk-N.<fmt>`. */
const FILE_BASED = new Set(['dir', 'nfs', 'cifs', 'btrfs', 'cephfs', 'glusterfs']);
/** Storage types that are shared by nature (no `shared` flag needed). */
const SHARED_TYPES = new Set(['rbd', 'cephfs', 'nfs', 'cifs', 'pbs', 'iscsi', 'iscsidirect', 'zfs', 'glusterfs']);

export interface StorageInfo {
  id: string;
  type: string;
  /** Properties as written; bare booleans as '1'. */
  props: Record<string, string>;
  /** Restricted to these nodes; null = all nodes. */
  nodes: string[] | null;
  shared: boolean;
  content: string[];
  fileBased: boolean;
  disabled: boolean;
}

/** Capacity of one storage, bytes (deterministic per storage type). */
function capacityOf(type: string): bigint {
  const tib = 1024n ** 4n;
  switch (type) {
    case 'rbd':
      return 48n * tib;
    case 'nfs':
    case 'cifs':
    case 'pbs':
      return 32n * tib;
    case 'lvm':
      return 16n * tib;
    case 'lvmthin':
    case 'zfspool':
      return 4n * tib;
    case 'btrfs':
      return 2n * tib;
    default:
      return 1n * tib;
  }
}

export class StorageRegistry {
  readonly storages = new Map<string, StorageInfo>();
  /** volid -> size in bytes. */
  private readonly volumes = new Map<string, bigint>();
  /** Registers the volumes of the initial configs on first use (keeps start-up fast). */
  private loader: (() => void) | undefined;

  constructor(
    /** storage.cfg text. */
    readonly cfgText: string,
  ) {
    for (const entry of parseStorageCfg(cfgText, "storage.cfg").storages.values()) {
      const props = entry.props;
      this.storages.set(entry.id, {
        id: entry.id,
        type: entry.type,
        props,
        nodes: props.nodes ? props.nodes.split(/[,;\s]+/).filter(Boolean) : null,
        shared: props.shared === '1' || SHARED_TYPES.has(entry.type),
        content: (props.content ?? '').split(',').filter(Boolean),
        fileBased: FILE_BASED.has(entry.type),
        disabled: props.disable === '1',
      });
    }
  }

  /** Sets the function that registers the initial volumes; it runs once, on first use. */
  setLoader(loader: () => void): void {
    this.loader = loader;
  }

  private load(): void {
    const l = this.loader;
    this.loader = undefined;
    l?.();
  }

  /** True when the storage exists, is enabled and is available on `node`. */
  availableOn(storeid: string, node: string): boolean {
    const s = this.storages.get(storeid);
    return !!s && !s.disabled && (s.nodes === null || s.nodes.includes(node));
  }

  /** Records an existing volume (from a config at load time); `size` as in `size=32G`. */
  register(volid: string, size: string | undefined): void {
    if (this.volumes.has(volid)) return;
    const bytes = size !== undefined ? parseSize(size) : null;
    this.volumes.set(volid, bytes ?? 32n * 1024n ** 3n);
  }

  exists(volid: string): boolean {
    this.load();
    return this.volumes.has(volid);
  }

  /** Size as PVE prints it in `size=` (`32G`), or undefined for an unknown volume. */
  sizeText(volid: string): string | undefined {
    this.load();
    const b = this.volumes.get(volid);
    return b === undefined ? undefined : formatSize(b);
  }

  /**
   * Allocates `vm-<vmid>-disk-N` (file-based: `<vmid>/vm-<vmid>-disk-N.<fmt>`) of `gib` GiB.
   * Throws PVE's texts for an unknown storage.
   */
  allocate(storeid: string, vmid: number, gib: number, format: string | undefined): string {
    this.load();
    const s = this.storages.get(storeid);
    if (!s) throw new Error(`storage '${storeid}' does not exist\n`);
    if (!s.content.includes('images')) throw new Error(`storage '${storeid}' does not support vm images\n`);
    const ext = s.type === 'btrfs' ? 'raw' : (format ?? 'qcow2');
    for (let n = 0; ; n++) {
      const name = `vm-${vmid}-disk-${n}`;
      const volid = s.fileBased ? `${storeid}:${vmid}/${name}.${ext}` : `${storeid}:${name}`;
      const taken = [...this.volumes.keys()].some((v) => v.startsWith(`${storeid}:`) && v.includes(name));
      if (!taken) {
        this.volumes.set(volid, BigInt(Math.round(gib * 1024)) * 1024n ** 2n);
        return volid;
      }
    }
  }

  /** Volumes on a storage with their sizes in bytes (a scan of every volume: the GUI reads this per storage view). */
  *volumesOn(storeid: string): Iterable<[string, bigint]> {
    this.load();
    for (const entry of this.volumes) if (entry[0].startsWith(`${storeid}:`)) yield entry;
  }

  /** Destroys a volume (forced delete, `unusedN` removal). */
  remove(volid: string): void {
    this.load();
    this.volumes.delete(volid);
  }

  /** Bytes used on a storage; for node-local storages only by VMs on `node`. */
  usage(storeid: string, node: string, vmNode: (vmid: number) => string | undefined): { total: bigint; used: bigint } {
    this.load();
    const s = this.storages.get(storeid);
    const total = capacityOf(s?.type ?? 'dir');
    let used = 0n;
    for (const [volid, size] of this.volumes) {
      if (!volid.startsWith(`${storeid}:`)) continue;
      if (s && !s.shared) {
        const owner = volumeOwner(volid);
        if (owner !== null && vmNode(owner) !== node) continue;
      }
      used += size;
    }
    return { total, used: used > total ? total : used };
  }
}
