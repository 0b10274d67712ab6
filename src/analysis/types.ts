// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The AuditReport contract (the audit JSON): one shape for the CLI,
 * the panel and the tests. Extra fields are welcome; the documented ones may not change meaning.
 */
import type { ConfigIssue, PendingDelete, StorageMap } from '../pve/types.js';
import type { PveQemuPackage } from './risk/types.js';
import type { RiskCode } from './risk/codes.js';

/** Version as [major, minor, patch]; `11.0` is [11, 0, 0]. */
export type Version = [number, number, number];

export type AioMode = 'io_uring' | 'native' | 'threads';

export type QemuDevice =
  | 'scsi-hd'
  | 'scsi-cd'
  | 'scsi-block'
  | 'scsi-generic'
  | 'virtio-blk-pci'
  | 'ide-hd'
  | 'ide-cd';

/**
 * QEMU driver of the device a disk hangs on. `virtio-scsi-pci` for both virtio-scsi-pci and
 * virtio-scsi-single; null for virtio-blk. A verbatim unknown scsihw value (docs/how-qemu-server-decides.md#reading-the-config) is
 * reported as written, hence `string`.
 */
export type ControllerName =
  | 'lsi'
  | 'lsi53c810'
  | 'megasas'
  | 'pvscsi'
  | 'virtio-scsi-pci'
  | 'ahci'
  | 'ich9-ahci'
  | 'ide'
  | (string & {})
  | null;

/** What QEMU really gets for one disk at one point in time (now, or after the next cold start). */
export interface DiskFacts {
  qemuDevice: QemuDevice | null;
  controller: ControllerName;
  /** QEMU device id of the controller (`scsihw1`, `virtioscsi3`, `ahci0`, `ide.2`); null for virtio-blk. */
  controllerId: string | null;
  iothread: { configured: boolean; effective: boolean };
  aio: { configured: AioMode | null; effective: AioMode | null };
  /** O_DIRECT (cache.direct); null when there is no medium. */
  cacheDirect: boolean | null;
  /** The configured `cache` mode, null when unset (so a pending view can say what it will be). */
  cache?: string | null;
  /**
   * Why an effective value differs from what the config line suggests, as data (a code and its
   * parameters); `src/present` words them (the JSON's `notes`, the CLI, the panel).
   */
  deviations: Deviation[];
  /** Set when QEMU/qemu-server would refuse to start with this disk (e.g. aio=native without O_DIRECT). */
  startError: string | null;
  /**
   * Facts that could not be determined because they depend on the type of a storage we cannot see
   * (token without Datastore.Audit on it, no or unreadable storage.cfg). A field listed here is
   * null, and that null means "could not be determined", NOT "none" (no aio, no medium). `reason`
   * says why and names what to give (e.g. the missing privilege). Absent when every fact is known.
   */
  unknown?: UnknownFact[];
}

/** A disk fact QEMU gets differently from what its config line suggests, and why. */
export interface Deviation {
  field: 'qemuDevice' | 'controller' | 'controllerId' | 'iothread' | 'aio' | 'cacheDirect' | 'storage';
  /** What the config says (null: not set). */
  configured: string | boolean | null;
  /** What QEMU gets (null: nothing, or not determined). */
  effective: string | boolean | null;
  because: DeviationCause;
}

/**
 * Why a fact deviates: a code and its parameters (qemu-server's rules; docs/how-qemu-server-decides.md).
 * `storage` in `blockdev-no-aio` / `aio-default` is the storage as an admin names its kind
 * (`lvm`, `krbd`, `librbd`, `ZFS over iSCSI`).
 */
export type DeviationCause =
  /** iothread=1 on a SCSI disk: only virtio-scsi-single attaches an IO thread. */
  | { code: 'scsihw-not-single'; scsihw: string }
  /** A scsihw value PVE does not know is passed to QEMU verbatim. */
  | { code: 'scsihw-verbatim'; scsihw: string }
  /** q35 has one unit per IDE bus: odd IDE indices move up by two buses. */
  | { code: 'q35-ide-bus'; index: number; bus: number }
  /** A template's IDE/SATA disks are ide-cd. */
  | { code: 'template-ide-cd'; bus: 'ide' | 'sata' }
  /** A /dev path on SCSI: the device type is decided on the node by a SCSI INQUIRY. */
  | { code: 'passthrough'; scsiblock: boolean }
  /** Machine < 4.1: iSCSI volumes become scsi-generic (storageKnown: whether the storage type is known). */
  | { code: 'old-machine-iscsi'; storageKnown: boolean }
  /** The storage is not in storage.cfg: facts assume a local file or block device. */
  | { code: 'storage-missing'; storage: string }
  /** An empty drive (`none`): no block node, no aio. */
  | { code: 'no-medium' }
  /** aio=native on a storage of unknown type: QEMU refuses it without O_DIRECT. */
  | { code: 'native-needs-direct'; storage: string; directUnknown: boolean }
  /** An unset cache that is not O_DIRECT (a CD-ROM, btrfs without nocow). */
  | { code: 'cache-default-not-direct'; why: 'cdrom' | 'btrfs-cow' }
  /** A storage type qemu-server has no rule for (a plugin): taken as a file or /dev path. */
  | { code: 'storage-type-not-builtin'; type: string }
  /** Under -blockdev a network driver (librbd, iSCSI, NBD, PBS) takes no aio. */
  | { code: 'blockdev-no-aio'; storage: string }
  /** The default aio is not io_uring on this storage / cache (`cache`: the configured mode, null when unset). */
  | { code: 'aio-default'; storage: string; direct: boolean; cache: string | null; cdrom: boolean }
  /** -drive passes aio to a driver that probably ignores it. */
  | { code: 'drive-aio-unverified'; driver: string }
  /** The storage type cannot be read; `fields` could not be determined. */
  | { code: 'storage-type-unknown'; storage: string; why: string; fields: Array<UnknownFact['field']> }
  /** PVE leaves the drive off the command line (the reason is qemu-server's or the parser's). */
  | { code: 'not-attached'; reason: string };

/** One disk fact that could not be determined (see `DiskFacts.unknown`). */
export interface UnknownFact {
  field: 'aio' | 'cacheDirect' | 'qemuDevice';
  reason: string;
}

export interface DiskReport extends DiskFacts {
  key: string;
  bus: 'ide' | 'sata' | 'scsi' | 'virtio';
  media: 'disk' | 'cdrom';
  /** The `file` value (`local-lvm:vm-100-disk-0`, `none`, `/dev/...`). */
  volume: string;
  storage: string | null;
  storageType: string | null;
  cache: string | null;
  /** Facts after the next cold start; absent when nothing changes; `{deleted: true}` when removed. */
  pending?: DiskFacts | { deleted: true };
  /** True when this disk exists only after the pending changes (current facts are then all null). */
  onlyPending?: boolean;
}

export type RiskLevel = 'critical' | 'warning' | 'info' | 'ok' | 'unknown';

export interface RiskEvidence {
  /** What kind of fact: a config value, an effective value, a measurement, a log line. */
  kind: 'config' | 'effective' | 'metric' | 'log' | 'missing';
  /** e.g. `scsihw`, `scsi0.iothread`, `diskwrite` */
  label: string;
  value: string;
}

export interface RiskReason {
  /** Stable code, documented in docs/risk-model.md. */
  code: RiskCode;
  severity: RiskLevel;
  disk?: string;
  message: string;
  evidence: RiskEvidence[];
  /** What to do, in the CLI's words (the JSON contract's `fix`). */
  fix: string;
  /** What to do, as data (actions and their parameters), in order; each front end words them (`src/present/fix.ts`). */
  steps: FixStep[];
  /**
   * NOT_CHECKED only: which part could not be checked. `config`: a fact of the VM's own config
   * is open (e.g. a storage type that decides aio); `evidence`: something beyond the config (node
   * syslog, rrddata, node CPU, backup jobs, snapshots) - the config itself was checked.
   */
  scope?: 'config' | 'evidence';
  /** NOT_CHECKED only, when known: the check, as a noun phrase (`QMP timeouts in the node's syslog`). */
  check?: string;
}

/**
 * One step of a fix, as data. The rules say what to change; the CLI and the panel each say how
 * (the panel never names CLI flags, the CLI may).
 */
export type FixStep =
  /** Change the SCSI controller (`scsihw`). */
  | { action: 'set-scsihw'; value: 'virtio-scsi-single' }
  /** Set `iothread=1` on these disks. */
  | { action: 'set-iothread'; disks: string[] }
  /** Move IDE/SATA disks to SCSI (they cannot have an IO thread). */
  | { action: 'move-to-scsi'; disks: string[] }
  /** Set `aio` on these disks; `orCacheNone`: or `cache=none` to keep aio=native; `ifStalls`: only if the VM still stalls. */
  | { action: 'set-aio'; disks: string[]; value: 'threads'; orCacheNone?: boolean; ifStalls?: boolean }
  /** A new QEMU process: stop and start, or reboot from PVE (not inside the guest). `ha`: the VM is HA-managed. */
  | { action: 'cold-start'; ha?: boolean }
  /** Install the guest's virtio SCSI driver before the boot disk moves. */
  | { action: 'guest-driver'; windows: boolean }
  /** Correct this config key before the next start. */
  | { action: 'correct-config'; key: string }
  /** The storage is not in the storage.cfg read: audit with the node's, or move the disks off it. */
  | { action: 'check-storage'; storage: string; disks: string[] }
  /** Give the audit's token (or user) this privilege (`Datastore.Audit on /storage/x`). */
  | { action: 'grant-privilege'; privilege: string }
  /** Audit against the PVE API (offline files cannot tell). */
  | { action: 'audit-online' }
  /** Audit again with the risk evidence collected. */
  | { action: 'collect-evidence' }
  /** Audit again once the VM has run for a while (no samples yet). */
  | { action: 'audit-later' }
  /** Check that this source (an API path) answers, then audit again. */
  | { action: 'check-source'; source: string }
  /** Audit offline with the node's storage.cfg. */
  | { action: 'give-storage-cfg' }
  /** Enable fleecing on these backup jobs (or set it explicitly: `explicit`). */
  | { action: 'enable-fleecing'; jobs: string[]; explicit?: boolean }
  /** Remove the IO limits of these disks (keep the IO thread). */
  | { action: 'remove-io-limits'; disks: string[] }
  /** Give the VM at most this many vCPUs. */
  | { action: 'limit-vcpus'; max: number }
  /** Fewer vCPUs on the node's idle VMs, or move VMs away. */
  | { action: 'rebalance-node'; node: string }
  /** Take snapshots without RAM, or put vmstate on fast local storage. */
  | { action: 'snapshot-without-ram' }
  /** IO threads are there already: compare the timeouts with backups, snapshots and storage latency. */
  | { action: 'compare-node-logs' }
  /** Nothing to do: starting the VM from PVE applies the pending values. */
  | { action: 'start-applies' }
  /** Update a package on the node to this version or later (apt full-upgrade). */
  | { action: 'update-package'; package: 'pve-qemu-kvm' | 'qemu-server'; version: string }
  /** Run the VM on this machine version or later (unpinned VMs get it at the next start). */
  | { action: 'raise-machine'; version: string }
  /** Judge stalls by QMP timeouts and the guest's logs, not by the IO pressure figure. */
  | { action: 'ignore-io-pressure' };

export interface VmRisk {
  level: RiskLevel;
  reasons: RiskReason[];
  /** Evidence that could not be read (offline mode, missing privilege, API error). */
  unavailable?: string[];
}

export interface VmReport {
  vmid: number;
  name: string | null;
  node: string | null;
  status: 'running' | 'stopped' | 'unknown' | (string & {});
  /** `api` (exactly), or the config file path offline. Issues name the API path (`api:/nodes/...`). */
  source: string;
  digest: string;
  ostype: string | null;
  template: boolean;
  lock: string | null;
  scsihw: { configured: string | null; effective: string; pending?: { configured: string | null; effective: string } };
  machine: {
    configured: string | null;
    /** The machine version the disk layout was computed for, e.g. `11.0+pve0`. */
    version: string;
    type: 'i440fx' | 'q35' | 'virt';
    blockdev: boolean;
    /** Why this version (pinned, running, windows pin, installed QEMU). */
    basis: string;
    /** The machine after the next cold start, when it differs (pending `machine`, or a running VM on an older version). */
    pending?: { version: string; type: 'i440fx' | 'q35' | 'virt'; blockdev: boolean; basis: string };
    /**
     * Why qemu-server refuses the next start over its machine type (a pin newer than the node's QEMU
     * or qemu-server), in its words; absent when there is none.
     */
    startError?: string;
  };
  disks: DiskReport[];
  /** True when the VM has pending changes that touch its disks or scsihw. */
  pendingDataplaneChanges: boolean;
  /**
   * Why qemu-server refuses the next start over a volume that sits on no controller (efidisk0,
   * tpmstate0, the `vmstate` of a hibernated VM), in its words; absent when there is none.
   */
  volumeStartErrors?: VolumeStartError[];
  risk?: VmRisk;
  issues: ConfigIssue[];
}

/** A start error about a volume that is no disk on a controller (see `VmReport.volumeStartErrors`). */
export interface VolumeStartError {
  /** `efidisk0`, `tpmstate0` or `vmstate`. */
  key: string;
  volume: string;
  error: string;
}

export interface AuditReport {
  vms: VmReport[];
  /** Assumptions made for the whole run (e.g. QEMU version not given). */
  assumptions: string[];
  /** Inputs that could not be audited at all (file unreadable, API error), by source. */
  errors: ConfigIssue[];
  /** Problems in shared inputs that did not stop the audit (storage.cfg lines, missing --storage-cfg). */
  warnings?: ConfigIssue[];
}

/**
 * Source-independent input of the analysis for one VM: what runs now (`current`) and what the
 * [PENDING] section / the API's pending values change. Built from a config file offline and from
 * `GET /nodes/{n}/qemu/{id}/pending` online, so both audits compute the same report.
 */
export interface VmInput {
  vmid: number;
  node: string | null;
  source: string;
  digest: string;
  /** Main-section keys (raw values, as stored). */
  current: Record<string, string>;
  /** Pending values (raw), keyed by config key. */
  pending: Record<string, string>;
  deletes: PendingDelete[];
  /** Snapshot sections' values (needed for the forced-delete rule, docs/how-qemu-server-decides.md#pending); may be empty online. */
  snapshots?: Record<string, string>[];
  /** 1-based file line of each key (offline only), so issues can name file, line and key. */
  lines?: { current: Record<string, number>; pending: Record<string, number> };
  runtime?: {
    status: string;
    /** `running-machine` of a running VM, e.g. `pc-i440fx-9.2+pve1`. */
    runningMachine?: string;
    /** `running-qemu`, e.g. `9.2.0`. */
    runningQemu?: string;
    name?: string;
    /** HA service state from `/cluster/resources` (`started`, `stopped`, ...); absent when not HA-managed. */
    haState?: string;
  };
  issues: ConfigIssue[];
}

export interface AnalysisEnv {
  storages: StorageMap;
  /** Installed QEMU binary version (node's pve-qemu-kvm). */
  installedQemu: Version;
  /** True when installedQemu was assumed rather than given/read. */
  installedQemuAssumed: boolean;
  /**
   * Online: installed QEMU per node, read from each node. When it has the VM's `node`, it takes
   * precedence over `installedQemu` (nodes of one cluster can run different pve-qemu-kvm versions).
   */
  installedQemuByNode?: Record<string, Version>;
  /**
   * Installed pve-qemu-kvm package (Debian version) per node: online from `/nodes/{node}/apt/versions`,
   * offline from `--pve-qemu-version NODE=VERSION`. Takes precedence over `pveQemu`.
   */
  pveQemuByNode?: Record<string, PveQemuPackage>;
  /** The same for every node (offline `--pve-qemu-version VERSION`). */
  pveQemu?: PveQemuPackage;
  /** Online: why a node's pve-qemu-kvm version could not be read (`needs Sys.Audit on /nodes/pve1`). */
  pveQemuUnknown?: Record<string, string>;
  /**
   * Storages VMs reference whose type cannot be read, id -> why (online: the token lacks
   * Datastore.Audit, or /storage failed). Their type is unknown - they are NOT missing from
   * storage.cfg, so no "cannot start" verdict; the facts that depend on the type are in
   * `DiskFacts.unknown`.
   */
  unreadableStorages?: Record<string, string>;
  /**
   * Offline without a usable storage.cfg (`--conf` without `--storage-cfg`, or storage.cfg not
   * readable): why the type of every storage not in `storages` is unknown. Such a storage is then
   * treated like an unreadable one (facts that depend on its type are unknown), not as missing.
   */
  storageTypesUnknown?: string;
}
