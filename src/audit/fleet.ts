// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Online audit input: everything the analysis needs for a whole cluster (or one node), read with
 * the fewest requests the API allows.
 *
 * Request budget (N VMs on K nodes):
 * - once, together: `/cluster/resources?type=vm` (VM list, node, status, HA state), `/nodes`
 *   (which nodes are offline), `/storage` (storage types and krbd/nocow/path), and
 *   `/access/permissions` (the token's own privileges: tells a storage the token may not see from
 *   one that does not exist);
 * - per node, queued ahead of the VMs: `qemu?full=1` (running-machine / running-qemu) and the
 *   installed QEMU (`apt/versions`, or `capabilities/qemu/machines` without Sys.Audit);
 * - per VM exactly ONE request, `/pending`: current values, pending values, pending deletes and
 *   the digest in one answer. That is the physical limit, so N/concurrency round trips is the
 *   whole cost.
 *
 * Privileges: VM.Audit (VMs) + Datastore.Audit (storages) is enough. What a smaller token cannot
 * read is reported as a ConfigIssue naming the missing privilege, never guessed.
 */
import pLimit from 'p-limit';
import { DEFAULT_INSTALLED_QEMU } from './report.js';
import type { PveQemuPackage } from '../analysis/risk/types.js';
import type { AnalysisEnv, Version, VmInput } from '../analysis/types.js';
import { formatVersion } from '../analysis/version.js';
import type { ConfigIssue, PendingDelete, StorageMap } from '../pve/types.js';
import type { PveClient } from '../api/client.js';
import { type PermissionMap, fetchPermissions } from '../api/endpoints/access.js';
import { hasPrivilege } from '../pve/permissions.js';
import { driveVolume, isDriveKey, volumeStorage } from '../pve/index.js';
import { type ClusterResource, fetchClusterResources } from '../api/endpoints/cluster.js';
import { type NodeEntry, fetchNodes } from '../api/endpoints/nodes.js';
import { type NodeQemuVersion, fetchNodeQemuVersion } from './node-qemu.js';
import { type PendingItem, type QemuListEntry, fetchNodeQemuList, fetchVmPending } from '../api/endpoints/qemu.js';
import { fetchStorageConfig, storageMapFromConfig } from '../api/endpoints/storage.js';
import { PveApiError, PveConnectionError, PvePermissionError } from '../api/errors.js';

export interface CollectFleetOptions {
  /** Only VMs on this node. */
  node?: string;
  /** Only these VMs. */
  vmids?: readonly number[];
  /** VM requests in flight; defaults to (and is capped by) the client's concurrency. */
  concurrency?: number;
  /**
   * Where the VMs' `/pending` answers come from instead of one `fetchVmPending` per VM through
   * the client (the standalone panel reads them in batches through the shim: panel/data/pending-batch.ts).
   * The pacing is then the source's (`concurrency` does not apply). It is called once the QEMU
   * versions and permissions every VM is finalised with are in.
   */
  pendingSource?: PendingSource;
  /** Called after each VM's request, successful or not. */
  onProgress?: (progress: FleetProgress) => void;
  /**
   * Called with each VM's final input and the env it is analysed with, as soon as both are known
   * (before collectFleet resolves): lets a caller analyse VM by VM while the other requests are
   * still on the wire. `env` is the object collectFleet returns.
   */
  onInput?: (input: VmInput, env: AnalysisEnv) => void;
  /**
   * Called once the VM list is read and the node requests are queued, before the first VM request:
   * `/cluster/resources` (every VM, not only the selected ones), the nodes of the selected VMs and
   * the token's `/access/permissions` (still on the wire; an Error when unreadable).
   * Requests the caller sends here leave ahead of the per-VM ones.
   */
  onVmList?: (resources: readonly ClusterResource[], nodes: readonly string[], permissions: Promise<PermissionMap | Error>) => void;
  /**
   * Runs the work of each VM once its answer is in (building its input, `onInput`) when the caller
   * says (the audit's Backlog: after the answers that came in meanwhile); the promise resolves once
   * it ran. Default: at once. collectFleet resolves after every VM's job ran.
   */
  schedule?: (job: () => void) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Called once, before the first VM is read, with every VM to read (VMID order); returns each VM's
 * `/pending` answer in the same order, each settling as it comes in and failing as `fetchVmPending`
 * would (the same typed errors; an abort of `signal` as an aborted `PveConnectionError`).
 */
export type PendingSource = (vms: readonly { node: string; vmid: number }[], signal?: AbortSignal) => readonly Promise<PendingItem[]>[];

export interface FleetProgress {
  done: number;
  total: number;
  vmid: number;
}

export interface FleetResult {
  /** One input per audited VM, sorted by vmid. */
  inputs: VmInput[];
  env: AnalysisEnv;
  /**
   * VMs that could not be read (severity error) and cluster-wide facts that are partial or
   * derived (severity warning), each naming the request and, where it applies, the privilege.
   * Errors first, then by source.
   */
  errors: ConfigIssue[];
  /** The token's own privileges (`/access/permissions`); null when they could not be read. */
  permissions: PermissionMap | null;
}

/** `node` names no node of the cluster. */
export class UnknownNodeError extends Error {
  override name = 'UnknownNodeError';
}

/**
 * Collects `VmInput`s and the `AnalysisEnv` of a cluster over the API.
 * @throws PveApiError when the VM list itself cannot be read (nothing to audit), or
 *   UnknownNodeError when `node` names no node of the cluster
 */
export async function collectFleet(client: PveClient, options: CollectFleetOptions = {}): Promise<FleetResult> {
  const { signal } = options;
  const errors: ConfigIssue[] = [];
  const { resources, storages, storageListError, perms, reachable, nodeNames } = await readCluster(client, options, errors);

  // Node requests first: p-limit queues FIFO, so they leave with the first VM requests.
  const qemuLists = new Map<string, Promise<QemuListEntry[] | Error>>();
  const qemuVersions = new Map<string, Promise<NodeQemuVersion | Error>>();
  for (const node of nodeNames) {
    qemuLists.set(node, settle(fetchNodeQemuList(client, node, { full: true }, { signal })));
    qemuVersions.set(node, settle(fetchNodeQemuVersion(client, node, { signal })));
  }
  options.onVmList?.(resources, nodeNames, perms);

  // Each node's running VMs (`qemu?full=1`, slow on a big node: PVE asks QMP of every running
  // VM) gate only that node's VMs, so the first rows do not wait for the slowest node.
  const runtimeOf = new Map<string, Promise<Map<number, QemuListEntry> | undefined>>();
  for (const node of nodeNames) {
    runtimeOf.set(
      node,
      qemuLists.get(node)!.then((list) => {
        rethrowAbort(list);
        if (!(list instanceof Error)) return new Map(list.map((e) => [Number(e.vmid), e]));
        errors.push(issue(`api:/nodes/${node}/qemu`, 'warning', `running machine types on ${node} unknown: ${describe(list)}`));
        return undefined;
      }),
    );
  }
  // The QEMU versions (one small request per node) and permissions: every VM is finalised against
  // them as soon as its own answer is in, so `onInput` can analyse while the rest is still on the wire.
  const ready = (async () => {
    const env = await qemuEnv(nodeNames, qemuVersions, storages, errors);
    env.unreadableStorages = {};
    const permissions = await perms;
    rethrowAbort(permissions);
    return { env, permissions };
  })();
  // Nobody awaits these when no VM answers; their rejection (abort) then surfaces below.
  ready.catch(() => {});
  for (const p of runtimeOf.values()) p.catch(() => {});

  const limit = pLimit(Math.max(1, Math.min(options.concurrency ?? client.concurrency, client.concurrency)));
  // A source's reads start once the facts every VM is finalised with are in: no VM could be
  // finalised sooner, and the nodes' reads then do not queue behind its stream (with the panel's
  // batched read they did: the first row came ~1.2 s after the first answer at 5,000 VMs under
  // load, vs ~0.15 s; same-minute runs at load ~3: 634 ms ungated, 121-222 ms gated).
  const sourced = options.pendingSource
    ? ready.then(() => options.pendingSource!(reachable.map((vm) => ({ node: vm.node!, vmid: vm.vmid! })), signal))
    : undefined;
  sourced?.catch(() => {});
  let done = 0;
  const inputs: VmInput[] = [];
  /** Storages the token may not see -> the disks on them (`VM 101 scsi0`). */
  const hiddenUsers = new Map<string, string[]>();
  await Promise.all(
    reachable.map(async (vm, i) => {
      let items: PendingItem[];
      try {
        items = await (sourced ? sourced.then((a) => a[i]!) : limit(() => fetchVmPending(client, vm.node!, vm.vmid!, { signal })));
      } catch (err) {
        rethrowAbort(err);
        errors.push(vmReadError(vm, err));
        return;
      } finally {
        done++;
        options.onProgress?.({ done, total: reachable.length, vmid: vm.vmid! });
      }
      const [facts, runtime] = await Promise.all([ready, runtimeOf.get(vm.node!)]);
      const finish = (): void => {
        const input = vmInputFromPending(vm, items);
        attachRuntime(input, runtime, vm);
        addHiddenStorages(input, storages, storageListError ?? facts.permissions, facts.env.unreadableStorages!, hiddenUsers);
        inputs.push(input);
        options.onInput?.(input, facts.env);
      };
      // A node's VM list answering releases all of its VMs at once: each is a job of its own.
      if (options.schedule) await options.schedule(finish);
      else finish();
    }),
  );

  const { env, permissions } = await ready;
  await Promise.all(runtimeOf.values());
  // One warning per storage the token may not see (not one per disk on it).
  for (const [id, disks] of hiddenUsers) {
    const sorted = disks.sort((a, b) => NUMERIC.compare(a, b));
    const named = sorted.length > 5 ? `${sorted.slice(0, 5).join(', ')} and ${sorted.length - 5} more` : sorted.join(', ');
    errors.push(
      issue(`api:/storage/${id}`, 'warning',
        `storage '${id}': ${env.unreadableStorages![id]}; its type is unknown, so the aio mode and O_DIRECT of the ${sorted.length} disk${sorted.length === 1 ? '' : 's'} on it (${named}) are reported as unknown`),
    );
  }
  if (Object.keys(env.unreadableStorages!).length === 0) delete env.unreadableStorages;
  inputs.sort((a, b) => a.vmid - b.vmid);
  // Answers arrive in any order; the report should not.
  errors.sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      NUMERIC.compare(a.source ?? '', b.source ?? '') ||
      a.message.localeCompare(b.message),
  );
  return { inputs, env, errors, permissions: permissions instanceof Error ? null : permissions };
}

/** What collectFleet and collectEnv read first: the VM list, nodes, storages, and the VMs selected. */
async function readCluster(
  client: PveClient,
  options: Pick<CollectFleetOptions, 'node' | 'vmids' | 'signal'>,
  errors: ConfigIssue[],
): Promise<{
  resources: ClusterResource[];
  storages: StorageMap;
  /** Why /storage could not be read: every storage's type is then unknown (not missing). */
  storageListError: string | null;
  perms: Promise<PermissionMap | Error>;
  reachable: ClusterResource[];
  nodeNames: string[];
}> {
  const { signal } = options;
  // Settled, not awaited: only needed when a VM references a storage /storage did not list.
  const perms = settle(fetchPermissions(client, {}, { signal }));
  let storageListError: string | null = null;
  const [resources, nodes, storages] = await Promise.all([
    fetchClusterResources(client, { type: 'vm' }, { signal }),
    fetchNodes(client, { signal }).catch((err: unknown) => {
      rethrowAbort(err);
      errors.push(issue('api:/nodes', 'warning', `node list not readable (${describe(err)}); offline nodes are not skipped`));
      return null;
    }),
    fetchStorageConfig(client, {}, { signal }).catch((err: unknown): StorageMap => {
      rethrowAbort(err);
      storageListError = `storage list not readable (${describe(err)})`;
      errors.push(issue('api:/storage', 'warning', `${storageListError}; storage types are unknown`));
      return new Map();
    }).then((s) => (s instanceof Map ? s : storageMapFromConfig(s))),
  ]);
  const vms = selectVms(resources, nodes, options, errors);
  const nodeStatus = new Map((nodes ?? []).map((n: NodeEntry) => [n.node, n.status]));
  const offline = (node: string): boolean => nodeStatus.has(node) && nodeStatus.get(node) !== 'online';
  const reachable = vms.filter((vm) => {
    if (!offline(vm.node!)) return true;
    errors.push(
      issue(vmSource(vm), 'error', `VM ${vm.vmid} not audited: node ${vm.node} is ${nodeStatus.get(vm.node!)}`),
    );
    return false;
  });
  const nodeNames = [...new Set(reachable.map((vm) => vm.node!))].sort();
  return { resources, storages, storageListError, perms, reachable, nodeNames };
}

/** The env of the analysis without reading any VM (see `collectEnv`). */
export interface ClusterEnv {
  env: AnalysisEnv;
  /** Why a storage not in `env.storages` is unknown rather than missing: `hiddenStorages`' `perms`. */
  storageAccess: PermissionMap | Error | string;
  permissions: PermissionMap | null;
  errors: ConfigIssue[];
}

/**
 * The analysis env of the selected VMs' nodes (storages, installed QEMU per node) as collectFleet
 * reads it, without any per-VM request: for a caller that reads its VMs itself (the migration
 * engine reads each VM right before writing it). `env.unreadableStorages` is not filled: derive it
 * per VM with `hiddenStorages(input, env.storages, storageAccess)`.
 * @throws PveApiError when the VM list cannot be read, UnknownNodeError for an unknown `node`
 */
export async function collectEnv(client: PveClient, options: Pick<CollectFleetOptions, 'node' | 'vmids' | 'signal'> = {}): Promise<ClusterEnv> {
  const errors: ConfigIssue[] = [];
  const { storages, storageListError, perms, nodeNames } = await readCluster(client, options, errors);
  const versions = new Map(nodeNames.map((node) => [node, settle(fetchNodeQemuVersion(client, node, options.signal ? { signal: options.signal } : {}))]));
  const env = await qemuEnv(nodeNames, versions, storages, errors);
  const permissions = await perms;
  rethrowAbort(permissions);
  return { env, storageAccess: storageListError ?? permissions, permissions: permissions instanceof Error ? null : permissions, errors };
}

/**
 * `VmInput` from one `/pending` answer: `current` = every `value`, `pending` = every `pending`,
 * `deletes` from `delete` 1/2, `digest` from the `digest` item (which is not a config key).
 * `description` stays a key: `/pending` has it decoded, like the API's config.
 */
export function vmInputFromPending(
  vm: Pick<ClusterResource, 'vmid' | 'node' | 'name' | 'status'>,
  items: readonly PendingItem[],
): VmInput {
  const source = `api:/nodes/${vm.node}/qemu/${vm.vmid}`;
  const current: Record<string, string> = {};
  const pending: Record<string, string> = {};
  const deletes: PendingDelete[] = [];
  let digest = '';
  for (const item of items) {
    if (item.key === 'digest') {
      digest = String(item.value ?? '');
      continue;
    }
    if (item.value !== undefined && item.value !== null) current[item.key] = String(item.value);
    if (item.pending !== undefined && item.pending !== null) pending[item.key] = String(item.pending);
    // delete 2 = forced (`!key`); pve-guest-common also says 2 for deleting a key that is not set,
    // where force cannot matter (there is no volume to destroy).
    if (item.delete === 1 || item.delete === 2) deletes.push({ key: item.key, force: item.delete === 2 });
  }
  deletes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const issues: ConfigIssue[] = [];
  if (!digest) issues.push(issue(source, 'warning', '/pending returned no digest; a later write cannot be digest-guarded'));
  return {
    vmid: Number(vm.vmid),
    node: vm.node ?? null,
    source,
    digest,
    current,
    pending,
    deletes,
    snapshots: [],
    runtime: { status: vm.status ?? 'unknown', ...(vm.name ? { name: vm.name } : {}) },
    issues,
  };
}

function selectVms(
  resources: ClusterResource[],
  nodes: NodeEntry[] | null,
  options: CollectFleetOptions,
  errors: ConfigIssue[],
): ClusterResource[] {
  let vms = resources.filter((r) => r.type === 'qemu' && r.vmid !== undefined && r.node);
  if (options.node) {
    const known = new Set([...(nodes ?? []).map((n) => n.node), ...vms.map((v) => v.node!)]);
    if (!known.has(options.node)) {
      throw new UnknownNodeError(`--node ${options.node}: no such node in this cluster (nodes: ${[...known].sort().join(', ') || 'none visible'})`);
    }
    vms = vms.filter((v) => v.node === options.node);
  }
  if (options.vmids) {
    const wanted = new Set(options.vmids);
    const found = new Set<number>();
    vms = vms.filter((v) => wanted.has(v.vmid!) && (found.add(v.vmid!), true));
    for (const vmid of [...wanted].filter((id) => !found.has(id)).sort((a, b) => a - b)) {
      errors.push(
        issue(`api:/cluster/resources`, 'error',
          `VM ${vmid} not found${options.node ? ` on node ${options.node}` : ''}: it does not exist, is a container, ` +
            `or the PVE user or API token in use lacks VM.Audit on /vms/${vmid}`),
      );
    }
  }
  return vms.sort((a, b) => a.vmid! - b.vmid!);
}

function attachRuntime(input: VmInput, list: Map<number, QemuListEntry> | undefined, res: ClusterResource): void {
  const entry = list?.get(input.vmid);
  const status = entry?.status ?? res.status ?? input.runtime?.status ?? 'unknown';
  const runtime: NonNullable<VmInput['runtime']> = { status };
  const name = entry?.name ?? res.name;
  if (name) runtime.name = name;
  if (entry?.['running-machine']) runtime.runningMachine = entry['running-machine'];
  if (entry?.['running-qemu']) runtime.runningQemu = entry['running-qemu'];
  if (res.hastate) runtime.haState = res.hastate;
  input.runtime = runtime;
  if (status === 'running' && !runtime.runningMachine) {
    input.issues.push(
      issue(input.source, 'warning',
        list
          ? `running machine type not reported by /nodes/${input.node}/qemu?full=1; the machine version is derived from the config and may differ from what runs`
          : `running machine type unknown (/nodes/${input.node}/qemu?full=1 failed); the machine version is derived from the config and may differ from what runs`),
    );
  }
}

async function qemuEnv(
  nodeNames: string[],
  versions: Map<string, Promise<NodeQemuVersion | Error>>,
  storages: StorageMap,
  errors: ConfigIssue[],
): Promise<AnalysisEnv> {
  const byNode: Record<string, Version> = {};
  const pveQemuByNode: Record<string, PveQemuPackage> = {};
  const pveQemuUnknown: Record<string, string> = {};
  const derived: string[] = [];
  const unknown: string[] = [];
  let reason = '';
  for (const node of nodeNames) {
    const v = await versions.get(node)!;
    rethrowAbort(v);
    if (v instanceof Error) {
      unknown.push(`${node} (${describe(v)})`);
      pveQemuUnknown[node] = describe(v);
      continue;
    }
    byNode[node] = v.version;
    if (v.source === 'apt') pveQemuByNode[node] = { version: v.text, source: `/nodes/${node}/apt/versions` };
    else pveQemuUnknown[node] = pveQemuWhy(v.fallbackReason ?? `/nodes/${node}/apt/versions not read`);
    if (v.source === 'machines') {
      derived.push(`${node}: ${v.version[0]}.${v.version[1]}`);
      reason = v.fallbackReason ?? reason;
    }
  }
  if (derived.length) {
    errors.push(
      issue('api:/nodes/{node}/apt/versions', 'warning',
        `${reason.replace(/\/nodes\/[^/\s;,]+/g, '/nodes/{node}')}: installed QEMU taken from the newest machine type ` +
          `instead (${derived.join(', ')}); its patch level is unknown, which does not change machine versions`),
    );
  }
  const known = Object.values(byNode);
  const common = mostCommon(known);
  const assumed = unknown.length > 0 || known.length === 0;
  if (unknown.length) {
    errors.push(
      issue('api:/nodes/{node}/capabilities/qemu/machines', 'warning',
        `installed QEMU unknown on ${unknown.join(', ')}; assuming ${formatVersion(common ?? DEFAULT_INSTALLED_QEMU)} for unpinned VMs there`),
    );
  }
  const env: AnalysisEnv = {
    storages,
    installedQemu: common ?? DEFAULT_INSTALLED_QEMU,
    installedQemuAssumed: assumed,
  };
  if (known.length) env.installedQemuByNode = byNode;
  if (Object.keys(pveQemuByNode).length) env.pveQemuByNode = pveQemuByNode;
  if (Object.keys(pveQemuUnknown).length) env.pveQemuUnknown = pveQemuUnknown;
  return env;
}

/** The risk's wording for a missing privilege (`missing privilege X on /path`), so its fix names it. */
function pveQemuWhy(fallbackReason: string): string {
  const m = /^(\S+) needs (\S+) on (\S+)$/.exec(fallbackReason);
  return m ? `missing privilege ${m[2]} on ${m[3]} (to read ${m[1]})` : fallbackReason;
}

function mostCommon(versions: Version[]): Version | null {
  const counts = new Map<string, { v: Version; n: number }>();
  for (const v of versions) {
    const k = formatVersion(v);
    const c = counts.get(k) ?? { v, n: 0 };
    c.n++;
    counts.set(k, c);
  }
  let best: { v: Version; n: number } | null = null;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return best ? best.v : null;
}

// One collator for the whole sort (`localeCompare` with options builds one per call).
const NUMERIC = new Intl.Collator('en', { numeric: true });

/**
 * The storages this VM references that `/storage` did not list and that the token may not see (no
 * Datastore.Audit / Datastore.AllocateSpace on /storage/<id>, or its permissions unreadable), each
 * with why its type is unknown ("not `does not exist`"), by `VM key` (`scsi0`). A storage the token
 * could see but that is not listed really does not exist, which the analysis reports itself.
 * `perms` is the reason text when /storage itself could not be read: then no storage's type is known.
 */
export function hiddenStorages(
  input: Pick<VmInput, 'current' | 'pending'>,
  storages: StorageMap,
  perms: PermissionMap | Error | string,
): Map<string, { reason: string; keys: string[] }> {
  const out = new Map<string, { reason: string; keys: string[] }>();
  const seen = new Set<string>();
  for (const values of [input.current, input.pending]) {
    for (const [key, value] of Object.entries(values)) {
      if (!isDriveKey(key)) continue;
      const id = driveStorage(value);
      if (!id || storages.has(id) || seen.has(`${key}:${id}`)) continue;
      seen.add(`${key}:${id}`);
      const path = `/storage/${id}`;
      const visible =
        typeof perms !== 'string' &&
        !(perms instanceof Error) &&
        (hasPrivilege(perms, path, 'Datastore.Audit') || hasPrivilege(perms, path, 'Datastore.AllocateSpace'));
      if (visible) continue;
      const reason =
        typeof perms === 'string'
          ? perms
          : perms instanceof Error
            ? `not in /storage, and the permissions of the PVE user or API token in use could not be read (${describe(perms)})`
            : `not in /storage: the PVE user or API token in use lacks Datastore.Audit on ${path}`;
      const entry = out.get(id) ?? { reason, keys: [] };
      entry.keys.push(key);
      out.set(id, entry);
    }
  }
  return out;
}

/** Records `hiddenStorages` of the VM in `hidden` (id -> reason) and `users` (id -> `VM 101 scsi0`). */
function addHiddenStorages(
  input: VmInput,
  storages: StorageMap,
  perms: PermissionMap | Error | string,
  hidden: Record<string, string>,
  users: Map<string, string[]>,
): void {
  for (const [id, { reason, keys }] of hiddenStorages(input, storages, perms)) {
    hidden[id] = reason;
    users.set(id, [...(users.get(id) ?? []), ...keys.map((k) => `VM ${input.vmid} ${k}`)]);
  }
}

/** Storage id of a drive value (`local-lvm:vm-100-disk-0,size=32G`, `file=ceph:vm-1-disk-0`), else null. */
function driveStorage(value: string): string | null {
  return volumeStorage(driveVolume(value));
}

function vmReadError(vm: ClusterResource, err: unknown): ConfigIssue {
  const what = err instanceof PvePermissionError
    ? `needs ${err.privilege ?? 'VM.Audit'} on ${err.aclPath ?? `/vms/${vm.vmid}`}`
    : describe(err);
  return issue(vmSource(vm), 'error', `VM ${vm.vmid} not audited: GET /nodes/${vm.node}/qemu/${vm.vmid}/pending failed: ${what}`);
}

function vmSource(vm: ClusterResource): string {
  return `api:/nodes/${vm.node}/qemu/${vm.vmid}`;
}

function issue(source: string, severity: ConfigIssue['severity'], message: string): ConfigIssue {
  return { source, severity, message };
}

function describe(err: unknown): string {
  if (err instanceof PveApiError) return err.message.replace(/\n/g, '; ');
  return err instanceof Error ? err.message : String(err);
}

function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
}

/** An abort ends the whole collection; every other failure is recorded and the audit goes on. */
function rethrowAbort(err: unknown): void {
  if (err instanceof PveConnectionError && err.kind === 'aborted') throw err;
}
