// SPDX-License-Identifier: AGPL-3.0-or-later
/** Shapes shared by the simulator's modules: what a fleet is made of, and the start options. */
import type { FaultPlan } from './faults.js';

/** How the guest OS inside a VM reacts to power requests. */
export interface GuestBehaviour {
  /** Ignores the ACPI power button, so shutdown/reboot time out unless the guest agent is used. */
  ignoresAcpi: boolean;
  /** A QEMU guest agent runs inside (PVE uses it for shutdown when the config has `agent: 1`). */
  agentRunning: boolean;
  /** Simulated seconds a clean shutdown takes. */
  shutdownSec: number;
  /** Simulated seconds after a start before the guest agent answers (the OS boots; default 0). */
  agentStartSec?: number;
  /**
   * Storage drivers the guest OS lacks, e.g. `['vioscsi']` (Windows without the VirtIO SCSI
   * driver) or `['virtio_scsi']` (Linux initramfs without it): disks behind such a controller are
   * invisible to `Get-Disk` / `lsblk` (see guest-disks.ts for the driver names).
   */
  missingDrivers?: string[];
}

export type HaState = 'started' | 'stopped' | 'disabled' | 'ignored';

export interface FleetVm {
  vmid: number;
  node: string;
  /** The config file text, exactly as stored in /etc/pve/nodes/<node>/qemu-server/<vmid>.conf. */
  config: string;
  status: 'running' | 'stopped';
  /** HA-managed when set. */
  ha?: { state: HaState; group?: string };
  guest?: Partial<GuestBehaviour>;
  /** Under heavy IO: high diskwrite in rrddata, `qmp command ... got timeout` lines in the syslog. */
  ioStress?: boolean;
  /** QEMU version a running VM was started with (default: the node's installed one). */
  runningQemu?: string;
  /** Resource pool the VM belongs to (`/etc/pve/user.cfg` pool membership). */
  pool?: string;
  /** Simulated seconds since a running VM started. */
  uptimeSec?: number;
}

export interface FleetNode {
  name: string;
  /** Physical cores per socket. */
  cores: number;
  sockets: number;
  /** Threads in total (what `maxcpu` reports). */
  cpus: number;
  memBytes: number;
  cpuModel: string;
  /** `/etc/vzdump.conf` text (`key: value` lines); absent = PVE's built-in defaults only. */
  vzdumpConf?: string;
  /**
   * The node's time zone, in which journalctl prints syslog times and reads `since`/`until`:
   * `UTC` (default), a fixed offset `+02:00` / `-05:30`, or an IANA name (`Europe/Vienna`, with DST).
   */
  timezone?: string;
}

/** One `/etc/pve/jobs.cfg` vzdump job. */
export interface BackupJob {
  id: string;
  schedule: string;
  storage: string;
  mode: 'snapshot' | 'suspend' | 'stop';
  enabled: boolean;
  /** Comma list of VMIDs; absent with `all`. */
  vmid?: string;
  all?: boolean;
  node?: string;
  compress?: string;
  /** Backup fleecing property string, e.g. `enabled=1,storage=local-lvm` (PVE >= 8.2). */
  fleecing?: string;
  /** Back up the VMs of this pool (instead of `vmid` / `all`). */
  pool?: string;
  /** Comma list of VMIDs left out of an `all` job. */
  exclude?: string;
}

/** A resource pool; VMs join it through `FleetVm.pool`. */
export interface PoolDef {
  poolid: string;
  comment?: string;
  /** Storage members. */
  storages?: string[];
}

/** Everything the simulator loads at start. */
export interface FleetData {
  clusterName: string;
  nodes: FleetNode[];
  /** `/etc/pve/storage.cfg` text. */
  storageCfg: string;
  vms: FleetVm[];
  backupJobs: BackupJob[];
  /** Pools with a comment or storages; pools named only by `FleetVm.pool` exist too. */
  pools?: PoolDef[];
}

import type { PveQemuSpec } from './pve-qemu.js';

export type PveVersion = '8.2' | '9.1';

/** Options of `startSimulator`. */
export interface SimulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address (default 127.0.0.1; the simulator is meant for loopback). */
  host?: string;
  /** Number of generated VMs when no `fleet` is given (default 20). */
  vms?: number;
  /** Seed of everything random: fleet, token secrets, key order, faults (default 1). */
  seed?: number;
  /** Number of nodes of a generated fleet (default 3). */
  nodes?: number;
  /** Delay before every answer, ms (simulated network + API latency; default 0). */
  latencyMs?: number;
  /** Plain HTTP instead of HTTPS with a self-signed certificate. */
  http?: boolean;
  /** Delay of 401 answers, ms (PVE: ~3000, the default; tests use 0). */
  authDelayMs?: number;
  /** Which PVE generation to answer like (default '9.1'). */
  pveVersion?: PveVersion;
  /** Installed QEMU (pve-qemu-kvm upstream version, e.g. `10.1.2`); default per pveVersion. */
  qemuVersion?: string;
  /**
   * Installed pve-qemu-kvm package (`10.1.2-4`) on every node, or per node; see pve-qemu.ts. One
   * version for every node also sets `qemuVersion` to its upstream part unless that is given.
   */
  pveQemuVersion?: PveQemuSpec;
  /** Real ms per simulated ms for task durations (guest shutdown, HA reaction); default 0.1. */
  timeScale?: number;
  /** Shuffle JSON object keys like Perl's hash order (default true). */
  shuffleKeys?: boolean;
  faults?: FaultPlan;
  /** Load this fleet instead of generating one (see `generateFleet`, `fleetFromConfigs`). */
  fleet?: FleetData;
  /** Time zone of every node without its own `FleetNode.timezone` (default `UTC`; see there). */
  timezone?: string;
  /** Log one line per request to this function (the CLI passes a stderr writer). */
  log?: (line: string) => void;
}
