// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Online evidence for the risk assessment (src/analysis/risk): what only the API can tell.
 *
 * Request budget (V audited VMs, R of them running, K nodes):
 * - once: `/cluster/resources?type=vm` (unless given: all VMs of each node count for vCPU load,
 *   not only the audited ones) and `/cluster/backup`;
 * - per node: `/syslog` (since the window start), `/status` (logical CPUs), and
 *   `/vzdump/defaults` only when a job leaves fleecing unset;
 * - per running VM with disks in the main loop: `/rrddata` (hour); per non-template VM that has
 *   snapshots: `/snapshot`, plus `config?snapshot=NAME` for each snapshot that saved RAM (the caller
 *   says which VMs need what, see `evidenceNeeds`; unknown = read).
 *
 * Every failure becomes `{unavailable}` on the facts it concerns, naming the privilege for a 403
 * (the privileges each endpoint checks are from the PVE 9.1 API schema), so the risk level of that
 * part is `unknown` and the rest of the audit goes on. Only an abort is rethrown.
 */
import {
  type BackupJob,
  type BackupJobCoverage,
  type Fact,
  type HaState,
  type IoRates,
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
  summariseRrd,
  unavailable,
} from '../analysis/risk/index.js';
import type { StorageMap } from '../pve/types.js';
import type { PveClient, RequestOptions } from './client.js';
import { type ClusterResource, fetchBackupJobs, fetchClusterResources } from './endpoints/cluster.js';
import { fetchSyslog } from './endpoints/nodes.js';
import { fetchVmConfig, fetchVmRrdData, fetchVmSnapshots } from './endpoints/qemu.js';
import { PveApiError, PveConnectionError, PvePermissionError } from './errors.js';

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
}

export interface EvidenceFleet {
  vms: readonly EvidenceVm[];
  /** `/cluster/resources?type=vm` if already read; fetched otherwise. */
  resources?: readonly ClusterResource[];
  /** Storage config, to tell whether a RAM snapshot's storage is networked. */
  storages?: StorageMap;
}

export interface CollectEvidenceOptions {
  /** Syslog window for QMP timeouts, hours. Default 24. */
  windowHours?: number;
  /** rrddata timeframe for IO rates. Default `hour`. */
  rrdTimeframe?: IoRates['timeframe'];
  /** Most syslog lines read per node. Default 50 000. */
  syslogLimit?: number;
  /** Read snapshot lists for RAM snapshots. Default true. */
  snapshots?: boolean;
  /** Clock (tests). */
  now?: () => Date;
  signal?: AbortSignal;
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
    return unavailable(`missing privilege ${err.privilege ?? need.privilege} on ${err.aclPath ?? need.path}`, 'permission');
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

/** `YYYY-MM-DD HH:MM:SS`, the syslog `since` format (interpreted in the node's local time). */
export function syslogSince(now: Date, windowHours: number): string {
  const t = new Date(now.getTime() - windowHours * 3600_000);
  return t.toISOString().slice(0, 19).replace('T', ' ');
}

interface NodeStatus {
  cpuinfo?: { cpus?: number };
}

async function nodeQmpTimeouts(client: Getter, node: string, o: Required<Pick<CollectEvidenceOptions, 'windowHours' | 'syslogLimit'>> & { now: Date; req: RequestOptions }) {
  const lines = await fetchSyslog(client as PveClient, node, { since: syslogSince(o.now, o.windowHours), limit: o.syslogLimit }, o.req);
  const truncated = lines.length >= o.syslogLimit;
  return { stats: countQmpTimeouts(lines.map((l) => l.t), o.windowHours, truncated), truncated };
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
        network: isNetworkStorage(entry?.type ?? null, entry?.props['shared'] === '1'),
      };
    }),
  );
}

/**
 * Collects the online risk evidence of the given VMs.
 * @returns evidence per VMID; facts that could not be read are `{unavailable}`
 */
export async function collectRiskEvidence(client: Getter, fleet: EvidenceFleet, opts: CollectEvidenceOptions = {}): Promise<Map<number, RiskEvidenceInput>> {
  const windowHours = opts.windowHours ?? 24;
  const syslogLimit = opts.syslogLimit ?? 50_000;
  const timeframe = opts.rrdTimeframe ?? 'hour';
  const now = opts.now?.() ?? new Date();
  const req: RequestOptions = opts.signal ? { signal: opts.signal } : {};

  const [resources, jobs] = await Promise.all([
    fleet.resources ? Promise.resolve<Fact<readonly ClusterResource[]>>(fleet.resources) : attempt(() => fetchClusterResources(client as PveClient, { type: 'vm' }, req), { privilege: 'VM.Audit', path: '/vms' }),
    attempt(() => fetchBackupJobs(client as PveClient, req), { privilege: 'Sys.Audit', path: '/' }),
  ]);
  const qemu = isUnavailable(resources) ? [] : (resources as readonly ClusterResource[]).filter((r) => r.type === 'qemu' && r.vmid !== undefined);
  const byVmid = new Map(qemu.map((r) => [r.vmid!, r]));

  const nodes = [...new Set(fleet.vms.map((v) => v.node).filter((n): n is string => n !== null))].sort();
  const syslog = new Map<string, Promise<Fact<{ stats: Map<number, QmpTimeoutStats>; truncated: boolean }>>>();
  const status = new Map<string, Promise<Fact<NodeStatus>>>();
  for (const node of nodes) {
    syslog.set(node, attempt(() => nodeQmpTimeouts(client, node, { windowHours, syslogLimit, now, req }), { privilege: 'Sys.Syslog', path: `/nodes/${node}` }));
    status.set(node, attempt(() => client.get<NodeStatus>(`/nodes/${enc(node)}/status`, undefined, req), { privilege: 'Sys.Audit', path: `/nodes/${node}` }));
  }
  const vzdumpDefaults = new Map<string, Promise<Fact<boolean>>>();
  const nodeDefaultFleecing = (node: string): Promise<Fact<boolean>> => {
    let p = vzdumpDefaults.get(node);
    if (!p) {
      p = attempt(
        async () => parseFleecing(String((await client.get<Record<string, unknown>>(`/nodes/${enc(node)}/vzdump/defaults`, undefined, req))['fleecing'] ?? '')).fleecing === 'on',
        { privilege: 'Sys.Audit', path: `/nodes/${node}` },
      );
      vzdumpDefaults.set(node, p);
    }
    return p;
  };
  const backupJobs: BackupJob[] | null = isUnavailable(jobs)
    ? null
    : (jobs as Record<string, unknown>[]).map((j) => backupJobFromApi(j)).filter((j): j is BackupJob => j !== null);

  const out = new Map<number, RiskEvidenceInput>();
  await Promise.all(
    fleet.vms.map(async (vm) => {
      const res = byVmid.get(vm.vmid);
      const node = vm.node ?? res?.node ?? null;
      const running = res?.status === 'running';
      const template = Number(res?.template) === 1;
      const ev: RiskEvidenceInput = {};
      const noNode = unavailable('the VM has no known node', 'error');

      if (isUnavailable(resources)) ev.ha = resources as Unavailable;
      else ev.ha = res?.hastate ? ({ managed: true, state: res.hastate } satisfies HaState) : { managed: false };

      const tasks: Promise<void>[] = [];
      tasks.push(
        (async () => {
          if (!node) return void (ev.qmpTimeouts = noNode);
          const s = await syslog.get(node)!;
          ev.qmpTimeouts = isUnavailable(s) ? (s as Unavailable) : (s.stats.get(vm.vmid) ?? noQmpTimeouts(windowHours, s.truncated));
        })(),
      );
      tasks.push(
        (async () => {
          if (!node) return void (ev.nodeCpu = noNode);
          if (isUnavailable(resources)) return void (ev.nodeCpu = resources as Unavailable);
          const st = await status.get(node)!;
          if (isUnavailable(st)) return void (ev.nodeCpu = st as Unavailable);
          const hostCpus = (st as NodeStatus).cpuinfo?.cpus;
          if (!hostCpus) return void (ev.nodeCpu = unavailable(`/nodes/${node}/status has no cpuinfo.cpus`, 'error'));
          const runningVcpus = qemu.filter((r) => r.node === node && r.status === 'running').reduce((sum, r) => sum + (r.maxcpu ?? 0), 0);
          ev.nodeCpu = { node, hostCpus, runningVcpus, vmVcpus: res?.maxcpu ?? 0 } satisfies NodeCpu;
        })(),
      );
      if (isUnavailable(resources)) ev.io = resources as Unavailable;
      else if (running && node && vm.needsIo !== false) {
        tasks.push(
          (async () => {
            const points = await attempt(() => fetchVmRrdData(client as PveClient, node, vm.vmid, { timeframe, cf: 'AVERAGE' }, req), { privilege: 'VM.Audit', path: `/vms/${vm.vmid}` });
            ev.io = isUnavailable(points) ? (points as Unavailable) : summariseRrd(points as unknown as Record<string, unknown>[], timeframe);
          })(),
        );
      }
      tasks.push(
        (async () => {
          if (!backupJobs) return void (ev.backupJobs = jobs as Unavailable);
          const cov = jobsCovering(backupJobs, { vmid: vm.vmid, node, pool: res ? (res.pool ?? null) : undefined });
          if (cov.covering.length === 0 && cov.undetermined.length > 0) {
            return void (ev.backupJobs = unavailable(`pool of VM ${vm.vmid} unknown for job ${cov.undetermined.join(', ')}`, 'error'));
          }
          ev.backupJobs = await Promise.all(
            cov.covering.map(async (c): Promise<BackupJobCoverage> => (c.fleecing === 'unset' && node ? { ...c, nodeDefaultFleecing: await nodeDefaultFleecing(node) } : c)),
          );
        })(),
      );
      if (vm.hasSnapshots === false) ev.ramSnapshots = [];
      else if (opts.snapshots !== false && !template) {
        tasks.push(
          (async () => {
            if (!node) return void (ev.ramSnapshots = noNode);
            ev.ramSnapshots = await attempt(() => ramSnapshots(client, node, vm.vmid, fleet.storages, req), { privilege: 'VM.Audit', path: `/vms/${vm.vmid}` });
          })(),
        );
      }
      await Promise.all(tasks);
      out.set(vm.vmid, ev);
    }),
  );
  return out;
}
