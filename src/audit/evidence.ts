// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Online evidence for the risk assessment (src/analysis/risk): what only the API can tell.
 *
 * Request budget (V audited VMs, R of them running, K nodes):
 * - once: `/cluster/resources?type=vm` (unless given: all VMs of each node count for vCPU load,
 *   not only the audited ones) and `/cluster/backup`;
 * - per node: `/time` (the node's clock and zone, for the syslog window), `/syslog` (since the
 *   window start, in the node's local time), `/status` (logical CPUs), and `/vzdump/defaults`
 *   (with the job's `storage`) only when a job leaves fleecing unset, once per node and storage;
 * - once: `/cluster/metrics/export?history=1&start-time=…` (pve-manager ≥ 8.2.5, Sys.Audit on /):
 *   the IO rates of every running VM from the last 2 minutes of pvestatd's 10 s samples;
 * - per running VM with disks in the main loop, only when the export is refused, absent (older PVE)
 *   or lacks the VM: `/rrddata` (hour);
 * - RAM snapshots, when some non-template VM has snapshots and the cluster has a storage a RAM
 *   snapshot could be on and count as network (`noNetworkStorage`): once per network storage its
 *   content (`stateVolumesOnNetwork`) when the token sees every storage; otherwise per such VM
 *   `/snapshot`, plus `config?snapshot=NAME` for each snapshot that saved RAM (the caller says
 *   which VMs need what, see `evidenceNeeds`; unknown = read).
 *
 * Every failure becomes `{unavailable}` on the facts it concerns, naming the privilege for a 403
 * (the privileges each endpoint checks are from the PVE 9.1 API schema), so the risk level of that
 * part is `unknown` and the rest of the audit goes on. Only an abort is rethrown.
 */
import {
  type ApproximateWindow,
  type BackupJob,
  type BackupJobCoverage,
  type DeriveSample,
  type Fact,
  type HaState,
  type IoRates,
  type NodeClock,
  type NodeCpu,
  type QmpTimeoutStats,
  type RamSnapshot,
  type RiskEvidenceInput,
  type Unavailable,
  backupJobFromApi,
  countQmpTimeouts,
  isNetworkStorage,
  isUnavailable,
  jobsCovering,
  noQmpTimeouts,
  parseFleecing,
  summariseExport,
  summariseRrd,
  syslogWindow,
  unavailable,
} from '../analysis/risk/index.js';
import type { StorageMap } from '../pve/types.js';
import { type PermissionMap } from '../api/endpoints/access.js';
import { hasPrivilege } from '../pve/permissions.js';
import { storageEnabled, storageOnNode } from '../pve/storage-cfg.js';
import type { PveClient, RequestOptions } from '../api/client.js';
import { fetchStorageContent } from '../api/endpoints/storage.js';
import { type ClusterResource, fetchBackupJobs, fetchClusterResources, fetchMetricsExport } from '../api/endpoints/cluster.js';
import { fetchSyslog } from '../api/endpoints/nodes.js';
import { fetchVmConfig, fetchVmRrdData, fetchVmSnapshots } from '../api/endpoints/qemu.js';
import { PveApiError, PveConnectionError, PvePermissionError } from '../api/errors.js';
import { guestOsFact } from './guest-os.js';
import { type YieldToHost, yieldToIo } from './slices.js';

/** A VM to collect evidence for. */
export interface EvidenceVm {
  vmid: number;
  node: string | null;
  /**
   * False when no rule needs its IO rates (no disk in the main loop): rrddata is then not read.
   * Default: read for every running VM. See `evidenceNeeds`.
   */
  needsIo?: boolean;
  /** False when the config shows no snapshot (no `parent` key): the snapshot list is then not read. */
  hasSnapshots?: boolean;
  /** True to ask the guest agent for the OS (running VM whose ostype does not name it; see evidenceNeeds). */
  askGuestOs?: boolean;
}

export interface EvidenceFleet {
  vms: readonly EvidenceVm[];
  /** `/cluster/resources?type=vm` if already read; fetched otherwise. */
  resources?: readonly ClusterResource[];
  /** Storage config, to tell whether a RAM snapshot's storage is networked. */
  storages?: StorageMap;
  /**
   * The token's `/access/permissions` (an Error or null when unreadable). When they show every
   * storage visible, the RAM snapshots on network storage are read from one content listing per
   * network storage instead of one snapshot list per VM (see `stateVolumesOnNetwork`).
   */
  permissions?: PromiseLike<PermissionMap | Error | null>;
}

export interface CollectEvidenceOptions {
  /** Syslog window for QMP timeouts, hours. Default 24. */
  windowHours?: number;
  /** rrddata timeframe for IO rates. Default `hour`. */
  rrdTimeframe?: IoRates['timeframe'];
  /** Most syslog lines read per node. Default 50 000. */
  syslogLimit?: number;
  /**
   * Read IO rates from `/cluster/metrics/export` (one request) before falling back to per-VM rrddata.
   * Default true.
   */
  metricsExport?: boolean;
  /** Read snapshot lists for RAM snapshots. Default true. */
  snapshots?: boolean;
  /**
   * Find RAM snapshots on network storage in one content listing per network storage when the
   * token sees every storage (`stateVolumesOnNetwork`). Default true; false where those listings
   * are refused anyway: behind the shim, whose allow-list forwards no storage content.
   */
  stateVolumeListings?: boolean;
  /** Gives the thread a turn while a big answer is parsed; default `yieldToIo`. */
  yieldTo?: YieldToHost;
  /** Our clock (tests); the syslog window uses the node's own clock (`/time`) and this one only when that cannot be read. */
  now?: () => Date;
  signal?: AbortSignal;
  /**
   * The heavy evidence requests wait for this to settle: the metrics export (tens of MB at
   * thousands of VMs) and the per-VM ones (snapshot lists, rrddata, guest OS). The panel passes
   * "every config is in", so the rows get the request slots first (`RequestOptions.after`); the
   * few per-node requests leave at once. Default: at once.
   */
  after?: PromiseLike<unknown>;
}

type Getter = Pick<PveClient, 'get'>;

/** What an endpoint checks, to name the privilege when PVE's 403 gives no detail. */
interface Requirement {
  privilege: string;
  path: string;
}

function isAbort(err: unknown): boolean {
  return err instanceof PveConnectionError && err.kind === 'aborted';
}

/** An error as an Unavailable fact; aborts are rethrown. */
export function unavailableFrom(err: unknown, need: Requirement): Unavailable {
  if (isAbort(err)) throw err;
  if (err instanceof PvePermissionError) {
    // check_any prints its alternatives joined by `|`.
    const privilege = err.privileges.length > 0 ? err.privileges.join(' or ') : need.privilege;
    return unavailable(`missing privilege ${privilege} on ${err.aclPath ?? need.path}`, 'permission');
  }
  if (err instanceof PveApiError) return unavailable(`API error on ${err.request}: ${err.text}`, 'error');
  return unavailable(`error: ${err instanceof Error ? err.message : String(err)}`, 'error');
}

async function attempt<T>(fn: () => Promise<T>, need: Requirement): Promise<Fact<T>> {
  try {
    return await fn();
  } catch (err) {
    return unavailableFrom(err, need);
  }
}

const enc = encodeURIComponent;

interface NodeStatus {
  cpuinfo?: { cpus?: number; vendor?: string; model?: string };
}

interface NodeSyslog {
  stats: Map<number, QmpTimeoutStats>;
  truncated: boolean;
  approximate?: ApproximateWindow;
}

/** The node's clock, or why not (then the syslog window is widened, see syslogWindow). */
async function nodeClock(client: Getter, node: string, req: RequestOptions): Promise<Fact<NodeClock>> {
  const t = await attempt(() => client.get<Partial<NodeClock>>(`/nodes/${enc(node)}/time`, undefined, req), { privilege: 'Sys.Audit', path: `/nodes/${node}` });
  if (isUnavailable(t)) return t as Unavailable;
  const { time, localtime, timezone } = t as Partial<NodeClock>;
  if (typeof time !== 'number' || typeof localtime !== 'number') return unavailable(`/nodes/${node}/time has no time/localtime`, 'error');
  return typeof timezone === 'string' ? { time, localtime, timezone } : { time, localtime };
}

async function nodeQmpTimeouts(
  client: Getter,
  node: string,
  clock: Fact<NodeClock>,
  o: Required<Pick<CollectEvidenceOptions, 'windowHours' | 'syslogLimit'>> & { now: Date; req: RequestOptions },
): Promise<NodeSyslog> {
  const win = syslogWindow(o.windowHours, clock as NodeClock | Unavailable, o.now, node);
  const lines = await fetchSyslog(client as PveClient, node, { since: win.since, limit: o.syslogLimit }, o.req);
  const truncated = lines.length >= o.syslogLimit;
  const out: NodeSyslog = { stats: countQmpTimeouts(lines.map((l) => l.t), o.windowHours, truncated, win.approximate), truncated };
  if (win.approximate) out.approximate = win.approximate;
  return out;
}

async function ramSnapshots(client: Getter, node: string, vmid: number, storages: StorageMap | undefined, req: RequestOptions): Promise<RamSnapshot[]> {
  const snaps = await fetchVmSnapshots(client as PveClient, node, vmid, req);
  const withRam = snaps.filter((s) => s.name !== 'current' && Number(s.vmstate) === 1);
  return Promise.all(
    withRam.map(async (s) => {
      const conf = await fetchVmConfig(client as PveClient, node, vmid, { snapshot: s.name }, req);
      const vmstate = typeof conf['vmstate'] === 'string' ? conf['vmstate'] : '';
      const colon = vmstate.indexOf(':');
      const storage = colon > 0 ? vmstate.slice(0, colon) : null;
      const entry = storage ? storages?.get(storage) : undefined;
      return {
        name: s.name,
        vmstate,
        storage,
        storageType: entry?.type ?? null,
        network: entry ? isNetworkStorage(entry.type, entry.props['shared'] === '1') : null,
      };
    }),
  );
}

/**
 * `fleecing` of `/nodes/{n}/vzdump/defaults`: a property string (`0`, `1,storage=local-lvm`), a
 * parsed object on releases that return it unprinted, or absent when /etc/vzdump.conf does not set
 * it (the schema default, off, applies).
 */
function defaultFleecingOn(value: unknown): boolean {
  if (value !== null && typeof value === 'object') {
    const enabled = (value as Record<string, unknown>)['enabled'];
    return parseFleecing(enabled === undefined ? undefined : String(enabled)).fleecing === 'on';
  }
  return parseFleecing(typeof value === 'string' || typeof value === 'number' ? String(value) : undefined).fleecing === 'on';
}

/** Lazily starts `fn` once per key and hands out the same promise afterwards. */
function once<T>(fn: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const started = new Map<string, Promise<T>>();
  return (key) => {
    let p = started.get(key);
    if (!p) started.set(key, (p = fn(key)));
    return p;
  };
}

/** What is read once (per cluster or per node) and shared by every VM. */
interface Shared {
  client: Getter;
  req: RequestOptions;
  windowHours: number;
  timeframe: IoRates['timeframe'];
  storages: StorageMap | undefined;
  resources: Fact<readonly ClusterResource[]>;
  /** QEMU entries of `resources` by VMID (empty when unavailable). */
  byVmid: ReadonlyMap<number, ClusterResource>;
  /** vCPUs of the running QEMU VMs of each node (containers are limited by cgroups, not vCPU threads). */
  runningVcpus: ReadonlyMap<string, number>;
  /** No storage could hold a RAM snapshot on network storage (see noNetworkStorage). */
  noNetworkStorage: boolean;
  jobs: Fact<BackupJob[]>;
  /** IO rates of every VM the metrics export had, or why there are none (then: rrddata per VM). */
  exportIo: Promise<Fact<Map<number, IoRates>>>;
  syslog: (node: string) => Promise<Fact<NodeSyslog>>;
  status: (node: string) => Promise<Fact<NodeStatus>>;
  /** Keyed by `node` + NUL + the job's storage (empty: the node's default dump storage). */
  nodeDefaultFleecing: (key: string) => Promise<Fact<boolean>>;
  /** `stateVolumesOnNetwork`, read once when the first VM with snapshots asks. */
  networkStateVolumes: () => Promise<Map<number, RamSnapshot[]> | null>;
}

/** One VM as the per-VM readers see it. */
interface Subject {
  vm: EvidenceVm;
  res: ClusterResource | undefined;
  node: string;
}

async function qmpFact(s: Shared, { vm, node }: Subject): Promise<Fact<QmpTimeoutStats>> {
  const log = await s.syslog(node);
  if (isUnavailable(log)) return log as Unavailable;
  const l = log as NodeSyslog;
  return l.stats.get(vm.vmid) ?? noQmpTimeouts(s.windowHours, l.truncated, l.approximate);
}

async function nodeCpuFact(s: Shared, { res, node }: Subject): Promise<Fact<NodeCpu>> {
  if (isUnavailable(s.resources)) return s.resources as Unavailable;
  const st = await s.status(node);
  if (isUnavailable(st)) return st as Unavailable;
  const hostCpus = (st as NodeStatus).cpuinfo?.cpus;
  if (!hostCpus) return unavailable(`/nodes/${node}/status has no cpuinfo.cpus`, 'error');
  const cpu: NodeCpu = { node, hostCpus, runningVcpus: s.runningVcpus.get(node) ?? 0, vmVcpus: res?.maxcpu ?? 0 };
  // PVE sends read_cpuinfo's `vendor` (GenuineIntel); the model name says it too where it is missing.
  const info = (st as NodeStatus).cpuinfo;
  const vendor = info?.vendor && info.vendor !== 'unknown' ? info.vendor : info?.model && info.model !== 'unknown' ? info.model : undefined;
  if (vendor) cpu.vendor = vendor;
  return cpu;
}

/** undefined when no rule needs it (VM not running, or no disk in the main loop). */
async function ioFact(s: Shared, { vm, res, node }: Subject): Promise<Fact<IoRates> | undefined> {
  if (isUnavailable(s.resources)) return s.resources as Unavailable;
  if (res?.status === 'stopped' || vm.needsIo === false) return undefined;
  if (res?.status !== 'running') return unavailable(`VM ${vm.vmid} status is ${res?.status ?? 'not listed'} in /cluster/resources`, 'error');
  const exported = await s.exportIo;
  const rates = isUnavailable(exported) ? undefined : (exported as Map<number, IoRates>).get(vm.vmid);
  if (rates) return rates;
  const points = await attempt(
    () => fetchVmRrdData(s.client as PveClient, node, vm.vmid, { timeframe: s.timeframe as 'hour' | 'day' | 'week', cf: 'AVERAGE' }, s.req),
    { privilege: 'VM.Audit', path: `/vms/${vm.vmid}` },
  );
  return isUnavailable(points) ? (points as Unavailable) : summariseRrd(points as unknown as Record<string, unknown>[], s.timeframe);
}

async function backupFact(s: Shared, { vm, res, node }: Subject): Promise<Fact<BackupJobCoverage[]>> {
  if (isUnavailable(s.jobs)) return s.jobs as Unavailable;
  const cov = jobsCovering(s.jobs as BackupJob[], { vmid: vm.vmid, node, pool: res ? (res.pool ?? null) : undefined });
  if (cov.covering.length === 0 && cov.undetermined.length > 0) {
    return unavailable(`pool of VM ${vm.vmid} unknown for job ${cov.undetermined.join(', ')}`, 'error');
  }
  return Promise.all(
    cov.covering.map(async (c) => (c.fleecing === 'unset' ? { ...c, nodeDefaultFleecing: await s.nodeDefaultFleecing(`${node}\0${c.storage ?? ''}`) } : c)),
  );
}

/**
 * True when `storages` (the cluster's /storage, read) has no storage RAM_SNAPSHOT_NETWORK_STORAGE
 * would call network (a network type, or `shared`): a snapshot's RAM state is a volume on a storage
 * of storage.cfg (qemu-server QemuConfig.pm `__snapshot_save_vmstate`, on the storage
 * `find_vmstate_storage` chose when it was taken), so no RAM snapshot of any VM can be on network
 * storage and no snapshot list needs reading. An empty map (storage list unreadable) says nothing.
 */
function noNetworkStorage(storages: StorageMap | undefined): boolean {
  if (!storages || storages.size === 0) return false;
  for (const e of storages.values()) if (isNetworkStorage(e.type, e.props['shared'] === '1')) return false;
  return true;
}

/** undefined when not read (snapshots disabled, or a template). */
async function snapshotFact(s: Shared, { vm, res, node }: Subject, read: boolean): Promise<Fact<RamSnapshot[]> | undefined> {
  if (vm.hasSnapshots === false || s.noNetworkStorage) return [];
  if (!read || Number(res?.template) === 1) return undefined;
  const listed = await s.networkStateVolumes();
  if (listed) return listed.get(vm.vmid) ?? [];
  return attempt(() => ramSnapshots(s.client, node, vm.vmid, s.storages, s.req), { privilege: 'VM.Audit', path: `/vms/${vm.vmid}` });
}

/** Datastore.Audit or Datastore.AllocateSpace: what `/storage` lists a storage for. */
function seesStorage(perms: PermissionMap, path: string): boolean {
  return hasPrivilege(perms, path, 'Datastore.Audit') || hasPrivilege(perms, path, 'Datastore.AllocateSpace');
}

/**
 * True when `/storage` listed every storage of storage.cfg: the token sees each storage with an
 * ACL of its own and, through `/storage` (or `/`), every other one. (A NoAccess ACL on one
 * storage is the permission map's blind spot: PVE leaves that path out of the map.)
 */
function everyStorageVisible(perms: PermissionMap): boolean {
  // A storage id cannot contain a NUL: this path stands for every storage without an ACL of its own.
  if (!seesStorage(perms, '/storage/\0')) return false;
  return Object.keys(perms).every((path) => !path.startsWith('/storage/') || seesStorage(perms, path));
}

/** `vm-<vmid>-state-<snapshot>` with the format's suffix on file storages (qemu-server `__snapshot_save_vmstate`). */
const STATE_VOLUME = /(?:^|\/)vm-(\d+)-state-(.+?)(?:\.(?:raw|qcow2|vmdk))?$/;
/** The state of a hibernated VM (qemu-server `vm_suspend`: `suspend-YYYY-MM-DD`), not a snapshot's. */
const HIBERNATION_STATE = /^suspend-\d{4}-\d{2}-\d{2}$/;

/**
 * The RAM snapshots on network storage of every VM, by VMID, from one content listing per network
 * storage (on the first of `nodes` the storage is available on; the network types are shared,
 * so one node sees all of it). A snapshot's RAM state is a volume `vm-<vmid>-state-<snapshot>` on
 * a storage of storage.cfg, listed as disk-image content (qemu-server QemuConfig.pm
 * `__snapshot_save_vmstate`): so the listings name every RAM snapshot the risk rule reports, in
 * as many requests as there are network storages rather than one or more per VM with snapshots.
 * A RAM snapshot on a local storage is not listed, and needs no reason either.
 * null when the listings cannot stand for the snapshot lists: the storage list is unread, not
 * every storage is visible to the token (a RAM snapshot on a storage it cannot see is NOT_CHECKED,
 * which only the VM's own snapshot list tells), the permissions are unreadable, or a listing
 * failed. Aborts are rethrown.
 */
async function stateVolumesOnNetwork(
  client: Getter,
  storages: StorageMap,
  nodes: readonly string[],
  permissions: PromiseLike<PermissionMap | Error | null>,
  req: RequestOptions,
): Promise<Map<number, RamSnapshot[]> | null> {
  // An empty map is a storage list that could not be read: it names no storage type.
  if (storages.size === 0) return null;
  const perms = await permissions;
  if (!perms || perms instanceof Error || !everyStorageVisible(perms)) return null;
  const network = [...storages.values()].filter((e) => isNetworkStorage(e.type, e.props['shared'] === '1'));
  const listings = await Promise.all(
    network.map(async (entry) => {
      const node = nodes.find((n) => storageOnNode(entry, n));
      if (node === undefined || !storageEnabled(entry)) return null;
      try {
        return { entry, volumes: await fetchStorageContent(client as PveClient, node, entry.id, { content: 'images' }, req) };
      } catch (err) {
        if (isAbort(err)) throw err;
        return null;
      }
    }),
  );
  const out = new Map<number, RamSnapshot[]>();
  for (const listing of listings) {
    if (!listing) return null;
    for (const { volid } of listing.volumes) {
      const m = STATE_VOLUME.exec(volid.slice(volid.indexOf(':') + 1));
      if (!m || HIBERNATION_STATE.test(m[2]!)) continue;
      const vmid = Number(m[1]);
      const snap: RamSnapshot = { name: m[2]!, vmstate: volid, storage: listing.entry.id, storageType: listing.entry.type, network: true };
      const list = out.get(vmid);
      if (list) list.push(snap);
      else out.set(vmid, [snap]);
    }
  }
  return out;
}

/** The evidence object without the members no rule needs. */
function compact(ev: Record<string, unknown>): RiskEvidenceInput {
  return Object.fromEntries(Object.entries(ev).filter(([, v]) => v !== undefined)) as RiskEvidenceInput;
}

/** A metric `summariseExport` reads: a VM's `disk_read` or `disk_write`. */
function isVmDiskCounter(m: unknown): m is DeriveSample {
  if (m === null || typeof m !== 'object') return false;
  const { id, metric } = m as Partial<DeriveSample>;
  return (metric === 'disk_read' || metric === 'disk_write') && typeof id === 'string' && id.startsWith('qemu/');
}

/** The JSON of every metric `isVmDiskCounter` accepts contains one of these (its `metric`). */
const VM_DISK_COUNTER_HINTS = ['"disk_read"', '"disk_write"'];

/** Minutes of 10 s samples the IO rates are computed from (the export's volume grows with them). */
const EXPORT_WINDOW_MIN = 2;

/** Evidence requests started before the VMs are known (see `startRiskEvidence`). */
export interface EvidenceStart {
  resources: Promise<Fact<readonly ClusterResource[]>>;
  jobs: Promise<Fact<BackupJob[]>>;
  exportIo: Promise<Fact<Map<number, IoRates>>>;
  syslog: (node: string) => Promise<Fact<NodeSyslog>>;
  status: (node: string) => Promise<Fact<NodeStatus>>;
  nodeDefaultFleecing: (key: string) => Promise<Fact<boolean>>;
  windowHours: number;
  /** Options of the per-VM requests (`after` included). */
  req: RequestOptions;
  /** The nodes given (those of the audited VMs). */
  nodes: readonly string[];
}

/**
 * Starts the requests that do not depend on the VMs: the backup jobs, the metrics export, and for
 * each of `nodes` its clock, syslog and status, so they run while the VM configs are read. Nothing
 * is awaited; failures become `{unavailable}` facts.
 */
export function startRiskEvidence(
  client: Getter,
  fleet: { resources?: readonly ClusterResource[]; nodes?: readonly string[] },
  opts: CollectEvidenceOptions = {},
): EvidenceStart {
  const windowHours = opts.windowHours ?? 24;
  const syslogLimit = opts.syslogLimit ?? 50_000;
  const now = opts.now?.() ?? new Date();
  const req: RequestOptions = opts.signal ? { signal: opts.signal } : {};
  const later: RequestOptions = opts.after ? { ...req, after: opts.after } : req;
  const clock = once((node) => nodeClock(client, node, req));
  const start: EvidenceStart = {
    windowHours,
    req: later,
    nodes: fleet.nodes ?? [],
    resources: fleet.resources
      ? Promise.resolve<Fact<readonly ClusterResource[]>>(fleet.resources)
      : attempt(() => fetchClusterResources(client as PveClient, { type: 'vm' }, req), { privilege: 'VM.Audit', path: '/vms' }),
    jobs: attempt(() => fetchBackupJobs(client as PveClient, req), { privilege: 'Sys.Audit', path: '/' }).then((raw) =>
      isUnavailable(raw)
        ? (raw as Unavailable)
        : (raw as Record<string, unknown>[]).map((j) => backupJobFromApi(j)).filter((j): j is BackupJob => j !== null),
    ),
    exportIo:
      opts.metricsExport === false
        ? Promise.resolve(unavailable('not asked for', 'not-collected'))
        : attempt(async () => {
            // start-time is compared with the nodes' clocks, not ours.
            const first = fleet.nodes?.[0];
            const c = first !== undefined ? await clock(first) : undefined;
            const nodeNow = c && !isUnavailable(c) ? (c as NodeClock).time : Math.floor(now.getTime() / 1000);
            // Read a slice at a time, parsing only the VMs' disk counters (a sixth of the metrics):
            // the requests of the same thread go on meanwhile (51 MB at 5,000 VMs).
            const metrics = await fetchMetricsExport(client as PveClient, { history: true, 'start-time': nodeNow - EXPORT_WINDOW_MIN * 60 }, later, {
              keep: isVmDiskCounter,
              turn: opts.yieldTo ?? yieldToIo,
              hints: VM_DISK_COUNTER_HINTS,
            });
            return summariseExport(metrics, `${EXPORT_WINDOW_MIN} minutes`);
          }, { privilege: 'Sys.Audit', path: '/' }),
    syslog: once((node) =>
      attempt(async () => nodeQmpTimeouts(client, node, await clock(node), { windowHours, syslogLimit, now, req }), {
        privilege: 'Sys.Syslog',
        path: `/nodes/${node}`,
      }),
    ),
    status: once((node) => attempt(() => client.get<NodeStatus>(`/nodes/${enc(node)}/status`, undefined, req), { privilege: 'Sys.Audit', path: `/nodes/${node}` })),
    nodeDefaultFleecing: once((key) => {
      const [node, storage] = key.split('\0') as [string, string];
      // PVE checks Datastore.Audit or Datastore.AllocateSpace on the `storage` asked for, else on
      // the node's default dump storage (9.1 schema, vzdump/defaults). Asking with the job's own
      // storage checks the one the job writes to; `fleecing` comes from /etc/vzdump.conf either way.
      return attempt(
        async () => {
          const defaults = await client.get<Record<string, unknown>>(`/nodes/${enc(node)}/vzdump/defaults`, storage ? { storage } : undefined, req);
          return defaultFleecingOn(defaults['fleecing']);
        },
        {
          privilege: 'Datastore.Audit or Datastore.AllocateSpace',
          path: storage ? `/storage/${storage}` : "the node's default dump storage (/storage/local unless /etc/vzdump.conf names another)",
        },
      );
    }),
  };
  // Rejections are facts, never thrown, except an abort: keep it from surfacing as unhandled.
  for (const p of [start.resources, start.jobs, start.exportIo]) p.catch(() => {});
  for (const node of fleet.nodes ?? []) {
    start.syslog(node).catch(() => {});
    start.status(node).catch(() => {});
  }
  return start;
}

/** The risk evidence of one VM at a time, from the requests `startRiskEvidence` sent. */
export interface EvidenceCollector {
  /**
   * The evidence of `vm`: the shared facts once they are in, plus its own requests (snapshot list,
   * rrddata when the export lacks it, guest OS). Facts that could not be read are `{unavailable}`.
   * @throws PveConnectionError when aborted
   */
  forVm(vm: EvidenceVm): Promise<RiskEvidenceInput>;
}

/**
 * A collector of per-VM evidence (`started`: the requests `startRiskEvidence` already sent; started
 * here otherwise). The audit asks for each VM as soon as its config is in, so the per-VM requests
 * join the queue while the other configs are still being read.
 */
export function riskEvidenceCollector(
  client: Getter,
  fleet: Omit<EvidenceFleet, 'vms'>,
  opts: CollectEvidenceOptions = {},
  started?: EvidenceStart,
): EvidenceCollector {
  const st = started ?? startRiskEvidence(client, fleet.resources ? { resources: fleet.resources } : {}, opts);
  const shared: Promise<Shared> = Promise.all([st.resources, st.jobs]).then(([resources, jobs]) => {
    const qemu = isUnavailable(resources) ? [] : (resources as readonly ClusterResource[]).filter((r) => r.type === 'qemu' && r.vmid !== undefined);
    const runningVcpus = new Map<string, number>();
    for (const r of qemu) {
      if (r.status === 'running' && r.node) runningVcpus.set(r.node, (runningVcpus.get(r.node) ?? 0) + (r.maxcpu ?? 0));
    }
    let stateVolumes: Promise<Map<number, RamSnapshot[]> | null> | undefined;
    const { storages, permissions } = fleet;
    return {
      client,
      req: st.req,
      windowHours: st.windowHours,
      timeframe: opts.rrdTimeframe ?? 'hour',
      storages: fleet.storages,
      resources,
      byVmid: new Map(qemu.map((r) => [r.vmid!, r])),
      runningVcpus,
      noNetworkStorage: noNetworkStorage(fleet.storages),
      jobs,
      exportIo: st.exportIo,
      syslog: st.syslog,
      status: st.status,
      nodeDefaultFleecing: st.nodeDefaultFleecing,
      networkStateVolumes: () =>
        (stateVolumes ??= opts.stateVolumeListings !== false && storages && permissions && st.nodes.length > 0 ? stateVolumesOnNetwork(client, storages, st.nodes, permissions, st.req) : Promise.resolve(null)),
    };
  });
  // An abort surfaces through forVm; nobody may be asking yet.
  shared.catch(() => {});
  const readSnapshots = opts.snapshots !== false;
  return { forVm: async (vm) => vmEvidence(await shared, vm, readSnapshots) };
}

async function vmEvidence(shared: Shared, vm: EvidenceVm, readSnapshots: boolean): Promise<RiskEvidenceInput> {
  const { resources } = shared;
  const res = shared.byVmid.get(vm.vmid);
  const ha: Fact<HaState> = isUnavailable(resources)
    ? (resources as Unavailable)
    : res?.hastate ? { managed: true, state: res.hastate } : { managed: false };
  const node = vm.node ?? res?.node ?? null;
  if (node === null) {
    const noNode = unavailable('the VM has no known node', 'error');
    return { ha, qmpTimeouts: noNode, nodeCpu: noNode, io: noNode, backupJobs: noNode, ramSnapshots: noNode };
  }
  const subject: Subject = { vm, res, node };
  const [qmpTimeouts, nodeCpu, io, backupJobs, ramSnapshots, guestOs] = await Promise.all([
    qmpFact(shared, subject),
    nodeCpuFact(shared, subject),
    ioFact(shared, subject),
    backupFact(shared, subject),
    snapshotFact(shared, subject, readSnapshots),
    vm.askGuestOs ? guestOsFact(shared.client, node, vm.vmid, shared.req) : undefined,
  ]);
  return compact({ ha, qmpTimeouts, nodeCpu, io, backupJobs, ramSnapshots, guestOs });
}

/**
 * Collects the online risk evidence of the given VMs (`started`: the requests `startRiskEvidence`
 * already sent).
 * @returns evidence per VMID; facts that could not be read are `{unavailable}`
 */
export async function collectRiskEvidence(
  client: Getter,
  fleet: EvidenceFleet,
  opts: CollectEvidenceOptions = {},
  started?: EvidenceStart,
): Promise<Map<number, RiskEvidenceInput>> {
  const collector = riskEvidenceCollector(client, fleet, opts, started);
  const out = new Map<number, RiskEvidenceInput>();
  await Promise.all(fleet.vms.map(async (vm) => void out.set(vm.vmid, await collector.forVm(vm))));
  return out;
}
