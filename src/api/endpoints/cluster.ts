// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/cluster/...` endpoints. Wire shapes keep PVE's keys; booleans are PVE's 0/1 integers and
 * optional members are omitted (never null) when unset.
 */
import type { PveClient, RequestOptions } from '../client.js';
import { PveApiError } from '../errors.js';
import { parseListSliced } from '../json-slices.js';

/** One entry of `GET /cluster/resources` (PVE 8/9). Which members exist depends on `type`. */
export interface ClusterResource {
  /** `qemu/100`, `node/pve1`, `storage/pve1/local`, ... */
  id: string;
  type: 'qemu' | 'lxc' | 'node' | 'storage' | 'pool' | 'sdn' | 'network' | 'openvz' | (string & {});
  vmid?: number;
  node?: string;
  name?: string;
  /** Guests: `running`, `stopped`, `unknown` (no RRD data yet / node offline); storage: `available`. */
  status?: string;
  /** 0/1, present on guest entries. */
  template?: 0 | 1;
  /** Config lock (backup, migrate, ...), only when set. */
  lock?: string;
  /** `;`-separated, only when set. */
  tags?: string;
  pool?: string;
  /** HA service status (`started`, `stopped`, `fence`, ...), only for HA-managed guests. */
  hastate?: string;
  maxcpu?: number;
  cpu?: number;
  /** Bytes. */
  maxmem?: number;
  mem?: number;
  memhost?: number;
  maxdisk?: number;
  disk?: number;
  /** Seconds. */
  uptime?: number;
  /** Bytes since guest start. */
  netin?: number;
  netout?: number;
  diskread?: number;
  diskwrite?: number;
  /** Storage: plugin type (`lvmthin`, `rbd`, ...). */
  plugintype?: string;
  storage?: string;
  content?: string;
  shared?: 0 | 1;
  /** Node: support level, `''` without subscription. */
  level?: string;
  'cgroup-mode'?: number;
  [member: string]: unknown;
}

/**
 * `GET /cluster/resources[?type=vm|storage|node|sdn]`. `type=vm` returns QEMU **and** LXC guests:
 * filter on `type === 'qemu'`. Only guests the caller has VM.Audit on are listed.
 */
export function fetchClusterResources(
  client: PveClient,
  params: { type?: 'vm' | 'storage' | 'node' | 'sdn' } = {},
  options?: RequestOptions,
): Promise<ClusterResource[]> {
  return client.get<ClusterResource[]>('/cluster/resources', params, options);
}

/** One entry of `GET /cluster/ha/resources`. */
export interface HaResource {
  /** `vm:100`. */
  sid: string;
  type: 'vm' | 'ct' | (string & {});
  /** Requested state; `started` when absent from the config. */
  state?: 'started' | 'stopped' | 'enabled' | 'disabled' | 'ignored' | (string & {});
  group?: string;
  max_restart?: number;
  max_relocate?: number;
  failback?: 0 | 1;
  comment?: string;
  digest?: string;
  [member: string]: unknown;
}

/** `GET /cluster/ha/resources[?type=vm]` - needs Sys.Audit on `/`. */
export function fetchHaResources(
  client: PveClient,
  params: { type?: 'vm' | 'ct' } = {},
  options?: RequestOptions,
): Promise<HaResource[]> {
  return client.get<HaResource[]>('/cluster/ha/resources', params, options);
}

/** One vzdump job of `GET /cluster/backup` (job.cfg section; PVE keys kept). */
export interface BackupJob {
  id: string;
  type?: 'vzdump' | (string & {});
  /** systemd calendar event, e.g. `sun 01:00`. */
  schedule?: string;
  enabled?: 0 | 1;
  /** Comma list of vmids, when not `all`. */
  vmid?: string;
  all?: 0 | 1;
  exclude?: string;
  node?: string;
  pool?: string;
  storage?: string;
  mode?: 'snapshot' | 'suspend' | 'stop' | (string & {});
  'next-run'?: number;
  [member: string]: unknown;
}

/** `GET /cluster/backup` - needs Sys.Audit on `/`. */
export function fetchBackupJobs(client: PveClient, options?: RequestOptions): Promise<BackupJob[]> {
  return client.get<BackupJob[]>('/cluster/backup', undefined, options);
}

/** One entry of `GET /cluster/status`: one `cluster` entry (when clustered) and one per node. */
export interface ClusterStatusEntry {
  type: 'cluster' | 'node' | (string & {});
  /** `cluster` or `node/<name>`. */
  id: string;
  name: string;
  /** Node: 0/1. */
  online?: 0 | 1;
  /** Node: 1 for the node that answered. */
  local?: 0 | 1;
  nodeid?: number;
  ip?: string;
  level?: string;
  /** Cluster: 0/1, config version, node count. */
  quorate?: 0 | 1;
  version?: number;
  nodes?: number;
  [member: string]: unknown;
}

/** `GET /cluster/status`. */
export function fetchClusterStatus(client: PveClient, options?: RequestOptions): Promise<ClusterStatusEntry[]> {
  return client.get<ClusterStatusEntry[]>('/cluster/status', undefined, options);
}

/** One metric of `GET /cluster/metrics/export` (pve-manager PVE/PullMetric.pm). */
export interface ExportedMetric {
  /** `node/<name>`, `qemu/<vmid>`, `lxc/<vmid>`, `storage/<node>/<id>`. */
  id: string;
  /** e.g. `disk_read`, `disk_write` (derive: bytes since the guest started), `cpu_current`. */
  metric: string;
  value: number;
  /** Epoch seconds of the pvestatd update (every 10 s) that recorded it. */
  timestamp: number;
  type: 'gauge' | 'counter' | 'derive';
}

/** How `fetchMetricsExport` reads a big answer without holding the thread (see json-slices.ts). */
export interface SlicedRead<T> {
  /** The metrics to keep; the others are dropped as they are parsed. */
  keep: (metric: unknown) => metric is T;
  /** Gives the thread's other work a turn between slices. */
  turn: () => Promise<void>;
  /**
   * Texts the JSON of every metric `keep` accepts contains (`"disk_read"`): a metric without any
   * is dropped unparsed (see json-slices.ts).
   */
  hints?: readonly string[];
}

/**
 * `GET /cluster/metrics/export` (pve-manager ≥ 8.2.5) - needs Sys.Audit on `/`. Every online
 * node's pvestatd cache; with `history`, the generations newer than `start-time` (all ~181, 30 min,
 * without it). The answer's `data` is an object whose own `data` is the list. With `sliced`, only
 * the metrics it keeps, parsed a slice at a time (51 MB at 5,000 VMs and 2 minutes of history).
 */
export async function fetchMetricsExport<T = ExportedMetric>(
  client: PveClient,
  params: { history?: boolean; 'start-time'?: number; 'node-list'?: string; 'local-only'?: boolean },
  options?: RequestOptions,
  sliced?: SlicedRead<T>,
): Promise<T[]> {
  const q: Record<string, string | number> = {};
  if (params.history) q['history'] = 1;
  if (params['start-time'] !== undefined) q['start-time'] = params['start-time'];
  if (params['node-list'] !== undefined) q['node-list'] = params['node-list'];
  if (params['local-only']) q['local-only'] = 1;
  const path = '/cluster/metrics/export';
  if (!sliced) {
    const answer = await client.get<{ data?: T[] }>(path, q, options);
    return Array.isArray(answer?.data) ? answer.data : [];
  }
  const text = await client.getText(path, q, options);
  let read;
  try {
    read = await parseListSliced(text, ['data', 'data'], sliced.keep, sliced.turn, undefined, sliced.hints);
  } catch {
    read = null;
  }
  const envelope = read?.rest;
  if (envelope === null || typeof envelope !== 'object' || !('data' in envelope)) {
    throw new PveApiError({ status: 200, text: `answer is not a PVE API envelope ({"data": ...}); is ${client.apiBase} a PVE API endpoint?`, method: 'GET', path });
  }
  return read?.items ?? [];
}
