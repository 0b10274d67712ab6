// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Inputs of the risk assessment besides the VmReport: facts read from the config text that the
 * disk report does not carry (throttle limits, RAM snapshots), and facts only the API can give
 * (node syslog, rrddata, node CPU, backup jobs, HA state).
 *
 * NOTE: every fact is either a value or `{unavailable}`. A fact that is absent (`undefined`) counts
 * as "not collected", i.e. unavailable: a rule that needs it reports NOT_CHECKED, never a silent ok.
 */
import type { GuestHints } from './guest-os.js';
import type { ApproximateWindow } from './syslog-window.js';

/** Why a fact could not be read. */
export type UnavailableCause = 'offline' | 'permission' | 'error' | 'not-collected' | 'no-data';

/** A fact that could not be read, with a reason an admin can act on. */
export interface Unavailable {
  /** e.g. `missing privilege Sys.Syslog on /nodes/pve1`, `offline audit (files only)`. */
  unavailable: string;
  cause?: UnavailableCause;
}

/** A value, or why it could not be read. */
export type Fact<T> = T | Unavailable;

/** QMP commands to one VM that timed out, counted from the node's syslog. */
export interface QmpTimeoutStats {
  count: number;
  /** Length of the window searched, in hours. */
  windowHours: number;
  /** Timed-out commands by name (`query-proxmox-support`: 3). Agent (`guest-*`) commands are not counted. */
  commands: Record<string, number>;
  /** Up to three matching log lines, oldest first. */
  samples: string[];
  /** True when the syslog answer hit the line limit, so the count is a lower bound. */
  truncated: boolean;
  /**
   * Set when the node's time zone could not be read: the lines searched cover at least the last
   * `windowHours` and at most the last `approximate.windowMaxHours` (see syslog-window.ts).
   */
  approximate?: ApproximateWindow;
}

/** Disk IO rate of the whole VM (rrddata is per VM, not per disk). */
export interface IoRates {
  /**
   * The window the figures cover: an rrddata timeframe (1-minute averages over the hour…), or the
   * last minutes of 10 s samples of `/cluster/metrics/export` (`2 minutes`).
   */
  timeframe: 'hour' | 'day' | 'week' | `${number} minutes`;
  /** Mean of diskread + diskwrite over the samples, bytes/s. */
  avgBytesPerSec: number;
  /** Highest single sample of diskread + diskwrite, bytes/s. */
  peakBytesPerSec: number;
  avgReadBytesPerSec: number;
  avgWriteBytesPerSec: number;
  /** Samples that carried disk figures. */
  samples: number;
}

/** vCPU load of the node the VM runs on. */
export interface NodeCpu {
  node: string;
  /** Logical CPUs of the host (`cpuinfo.cpus`, what PVE shows as "CPU(s)"). */
  hostCpus: number;
  /** Sum of vCPUs of the running QEMU VMs on the node. */
  runningVcpus: number;
  /** vCPUs of this VM. */
  vmVcpus: number;
  /** CPU vendor of the host (`GenuineIntel`, `AuthenticAMD`; `cpuinfo.vendor`, else from the model name); absent when unknown. */
  vendor?: string;
}

/** The installed pve-qemu-kvm package of the VM's node. */
export interface PveQemuPackage {
  /** Debian version, e.g. `10.1.2-4`. */
  version: string;
  /** Where it was read: `/nodes/pve1/apt/versions`, or `--pve-qemu-version`. */
  source: string;
}

/** What the guest agent says about the guest OS (`agent/get-osinfo`). */
export interface GuestOsInfo {
  id?: string;
  name?: string;
  prettyName?: string;
  kernelVersion?: string;
}

/** A backup job (vzdump) that covers the VM. */
export interface BackupJobCoverage {
  id: string;
  /** Fleecing as the job sets it: on, off, or not set (then the node default applies). */
  fleecing: 'on' | 'off' | 'unset';
  fleecingStorage?: string;
  /**
   * The node's vzdump default for fleecing (`/etc/vzdump.conf` via `/nodes/{n}/vzdump/defaults`),
   * when `fleecing` is unset; unavailable if not read, and then the job's fleecing is unknown.
   */
  nodeDefaultFleecing?: Fact<boolean>;
  mode: string;
  storage?: string;
  schedule?: string;
  /** How the job selects this VM: `all`, `vmid list`, `pool web`. */
  selection: string;
}

/** HA state of the VM (from `hastate` in /cluster/resources). */
export interface HaState {
  managed: boolean;
  state?: string;
}

/** A snapshot that saved the VM's RAM (`vmstate:` in a snapshot section). */
export interface RamSnapshot {
  /** Snapshot name when known. */
  name?: string;
  /** The vmstate volume, e.g. `nfs1:100/vm-100-state-pre-upgrade.raw`. */
  vmstate: string;
  storage: string | null;
  storageType: string | null;
  /**
   * Storage reaches the node over the network (nfs, cifs, cephfs, rbd, iscsi, ...) or is marked
   * shared; null when the storage is unknown (not in storage.cfg, or not visible to the token).
   */
  network: boolean | null;
}

/** Throttle options set on one disk (`mbps_rd` -> `100`), as written. */
export type ThrottleLimits = Record<string, string>;

/** Everything the risk rules may use besides the VmReport. All members optional; see the NOTE above. */
export interface RiskEvidenceInput {
  /** Config: throttle limits per disk key (only disks that have any). */
  throttles?: Fact<Record<string, ThrottleLimits>>;
  /** Config (snapshot sections) offline; API snapshot list online. */
  ramSnapshots?: Fact<RamSnapshot[]>;
  /** QEMU binary version the VM runs (running-qemu) or would start with (installed), `9.2.0`. */
  qemuVersion?: string;
  /** Node syslog. */
  qmpTimeouts?: Fact<QmpTimeoutStats>;
  /** rrddata. */
  io?: Fact<IoRates>;
  /** Node status + running VMs. */
  nodeCpu?: Fact<NodeCpu>;
  /** /cluster/backup (online) or jobs.cfg (offline): the enabled jobs that cover this VM. */
  backupJobs?: Fact<BackupJobCoverage[]>;
  /** /cluster/resources `hastate`. Only refines fix texts; never makes a part unknown. */
  ha?: Fact<HaState>;
  /** The node's installed pve-qemu-kvm (apt/versions online, --pve-qemu-version offline). */
  pveQemu?: Fact<PveQemuPackage>;
  /** Config: tags and whether the guest agent is enabled (to recognise FreeBSD guests). */
  guestHints?: GuestHints;
  /** Guest agent `get-osinfo`, read online only for a running VM whose ostype does not name its OS. */
  guestOs?: Fact<GuestOsInfo>;
}

/** True when the fact could not be read (or was not collected). */
export function isUnavailable<T>(fact: Fact<T> | undefined): fact is Unavailable | undefined {
  return fact === undefined || (typeof fact === 'object' && fact !== null && 'unavailable' in fact);
}

/** Builds an Unavailable marker. */
export function unavailable(reason: string, cause?: UnavailableCause): Unavailable {
  return cause ? { unavailable: reason, cause } : { unavailable: reason };
}

/** The marker the offline audit puts on every fact only the API can give. */
export const OFFLINE: Unavailable = unavailable('offline audit (files only): needs the PVE API', 'offline');
