// SPDX-License-Identifier: AGPL-3.0-or-later
/** `/nodes` and per-node endpoints other than `/nodes/{node}/qemu/...` (see qemu.ts). */
import { parseVersion } from '../../analysis/version.js';
import type { Version } from '../../analysis/types.js';
import type { PveClient, RequestOptions } from '../client.js';
import { PveConnectionError, PvePermissionError } from '../errors.js';
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

/** The installed QEMU of a node and how it was learnt. */
export interface NodeQemuVersion {
  version: Version;
  /** `apt`: pve-qemu-kvm from apt/versions (exact); `machines`: newest machine type (major.minor only). */
  source: 'apt' | 'machines';
  /** The text it was read from (`10.0.2-4`, `pc-i440fx-10.0+pve1`). */
  text: string;
  /** Set when the exact source could not be read: why, naming the missing privilege. */
  fallbackReason?: string;
}

/**
 * Installed QEMU (pve-qemu-kvm) of `node`. Reads `apt/versions` (exact, but needs Sys.Audit on
 * /nodes/{node}); on 403 falls back to the newest machine version of
 * `capabilities/qemu/machines`, which any user may read and which equals the binary's major.minor
 * (the only part that decides an unpinned VM's machine version); the same after any other
 * failure of apt/versions. Only an abort, or a failure of the fallback itself, propagates.
 */
export async function fetchNodeQemuVersion(
  client: PveClient,
  node: string,
  options?: RequestOptions,
): Promise<NodeQemuVersion> {
  let fallbackReason: string;
  try {
    const pkgs = await fetchNodeAptVersions(client, node, options);
    const pkg = pkgs.find((p) => p.Package === 'pve-qemu-kvm');
    // For apt/versions both Version and OldVersion are the installed version (OldVersion is the
    // more explicit one); a package that is not installed has neither meaningfully.
    const text = pkg?.OldVersion ?? pkg?.Version;
    const installed = pkg !== undefined && (pkg.CurrentState === undefined || pkg.CurrentState === 'Installed');
    const version = installed && text ? parseVersion(text.replace(/-.*$/, '')) : null;
    if (version) return { version, source: 'apt', text: text! };
    fallbackReason = !pkg
      ? `/nodes/${node}/apt/versions lists no pve-qemu-kvm package`
      : !installed
        ? `/nodes/${node}/apt/versions reports pve-qemu-kvm as ${String(pkg.CurrentState)}`
        : `pve-qemu-kvm version ${JSON.stringify(text)} from /nodes/${node}/apt/versions is not X.Y.Z-N`;
  } catch (err) {
    if (err instanceof PveConnectionError && err.kind === 'aborted') throw err;
    fallbackReason =
      err instanceof PvePermissionError
        ? `/nodes/${node}/apt/versions needs Sys.Audit on /nodes/${node}`
        : `/nodes/${node}/apt/versions failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  const machines = await fetchNodeMachines(client, node, options);
  const newest = newestMachine(machines);
  if (!newest) {
    throw new Error(`${fallbackReason}, and /nodes/${node}/capabilities/qemu/machines lists no machine version`);
  }
  return { version: newest.version, source: 'machines', text: newest.id, fallbackReason };
}

/** Newest `X.Y` among machine types (ignoring `+pveN`), as a QEMU version `[X, Y, 0]`. */
export function newestMachine(machines: readonly MachineCapability[]): { version: Version; id: string } | null {
  let best: { version: Version; id: string } | null = null;
  for (const m of machines) {
    const v = parseVersion(m.version.replace(/\+pve\d+$/, ''));
    if (!v) continue;
    if (!best || v[0] > best.version[0] || (v[0] === best.version[0] && v[1] > best.version[1])) {
      best = { version: v, id: m.id };
    }
  }
  return best;
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
