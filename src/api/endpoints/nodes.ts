// SPDX-License-Identifier: AGPL-3.0-or-later
/** `/nodes` and per-node endpoints other than `/nodes/{node}/qemu/...` (see qemu.ts). */
import type { PveClient, RequestOptions } from '../client.js';
import { apiPath } from '../params.js';

/** One entry of `GET /nodes`. */
export interface NodeEntry {
  node: string;
  status: 'online' | 'offline' | 'unknown' | (string & {});
  cpu?: number;
  maxcpu?: number;
  /** Bytes. */
  mem?: number;
  maxmem?: number;
  /** Seconds. */
  uptime?: number;
  /** Support level, `''` without subscription. */
  level?: string;
  /** SHA-256 of the node's certificate, `AA:BB:...`. */
  ssl_fingerprint?: string;
  [member: string]: unknown;
}

/** `GET /nodes` (any authenticated user). */
export function fetchNodes(client: PveClient, options?: RequestOptions): Promise<NodeEntry[]> {
  return client.get<NodeEntry[]>('/nodes', undefined, options);
}

/** One package of `GET /nodes/{node}/apt/versions` (Debian-style capitalised keys, as PVE sends them). */
export interface AptPackageVersion {
  Package: string;
  /** Installed (or to-be-installed) version, e.g. `10.0.2-4`. */
  Version: string;
  CurrentState?: 'Installed' | 'NotInstalled' | 'UnPacked' | 'HalfConfigured' | 'HalfInstalled' | 'ConfigFiles' | (string & {});
  OldVersion?: string;
  Title?: string;
  Origin?: string;
  Arch?: string;
  RunningKernel?: string;
  ManagerVersion?: string;
  [member: string]: unknown;
}

/** `GET /nodes/{node}/apt/versions` - needs Sys.Audit on `/nodes/{node}`. */
export function fetchNodeAptVersions(
  client: PveClient,
  node: string,
  options?: RequestOptions,
): Promise<AptPackageVersion[]> {
  return client.get<AptPackageVersion[]>(apiPath`/nodes/${node}/apt/versions`, undefined, options);
}

/** One machine type of `GET /nodes/{node}/capabilities/qemu/machines`. */
export interface MachineCapability {
  /** `pc-i440fx-10.0+pve1`, `pc-q35-9.2`. */
  id: string;
  type: 'i440fx' | 'q35' | (string & {});
  /** `10.0+pve1`, `9.2`. */
  version: string;
  changes?: string;
  [member: string]: unknown;
}

/**
 * `GET /nodes/{node}/capabilities/qemu/machines` (any authenticated user). The list comes from
 * the installed pve-qemu-kvm (`machine-versions-*.json`), so its newest version is the binary's
 * major.minor.
 */
export function fetchNodeMachines(
  client: PveClient,
  node: string,
  options?: RequestOptions,
): Promise<MachineCapability[]> {
  return client.get<MachineCapability[]>(apiPath`/nodes/${node}/capabilities/qemu/machines`, undefined, options);
}


/** One syslog line. */
export interface SyslogLine {
  /** Line number (1-based). */
  n: number;
  t: string;
}

/**
 * `GET /nodes/{node}/syslog` - needs Sys.Syslog on /nodes/{node}. `since`/`until` are
 * `YYYY-MM-DD[ HH:MM[:SS]]` in the node's local time.
 */
export function fetchSyslog(
  client: PveClient,
  node: string,
  params: { start?: number; limit?: number; since?: string; until?: string; service?: string } = {},
  options?: RequestOptions,
): Promise<SyslogLine[]> {
  return client.get<SyslogLine[]>(apiPath`/nodes/${node}/syslog`, params, options);
}

/** One node RRD point (`GET /nodes/{node}/rrddata`); rates per second, sizes in bytes. */
export interface NodeRrdPoint {
  time: number;
  cpu?: number;
  maxcpu?: number;
  iowait?: number;
  loadavg?: number;
  memused?: number;
  memtotal?: number;
  netin?: number;
  netout?: number;
  [member: string]: number | undefined;
}

/** `GET /nodes/{node}/rrddata?timeframe=...` - needs Sys.Audit on /nodes/{node}. */
export function fetchNodeRrdData(
  client: PveClient,
  node: string,
  params: { timeframe: 'hour' | 'day' | 'week' | 'month' | 'year'; cf?: 'AVERAGE' | 'MAX' },
  options?: RequestOptions,
): Promise<NodeRrdPoint[]> {
  return client.get<NodeRrdPoint[]>(apiPath`/nodes/${node}/rrddata`, params, options);
}
