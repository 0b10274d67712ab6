// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A fake PVE cluster serving real config files through the endpoints the online audit reads, with
 * PVE's shapes: `/pending` built like pve-guest-common `config_with_pending_array` (every key incl.
 * `digest` and `description`, raw values, pending-only keys without `value`, deletes 1/2, shuffled
 * order), `/storage` like the storage.cfg API (0/1 numbers, `digest`).
 */
import type { PendingItem } from '../../../../src/api/endpoints/qemu.js';
import { parsePveBoolean } from '../../../../src/pve/index.js';
import type { StorageMap, VmConfigFile } from '../../../../src/pve/types.js';
import { type FakePve, fail, ok, startFakePve } from './fake-pve.js';

/** `/pending` of a config file, in a shuffled (seeded) order: PVE's order is Perl hash order. */
export function pendingFromConfig(file: VmConfigFile, seed = 1): PendingItem[] {
  const items: PendingItem[] = [];
  const main = new Map<string, string>();
  if (file.main.description !== null) main.set('description', file.main.description);
  for (const [k, e] of file.main.entries) main.set(k, e.value);
  const pend = new Map<string, string>();
  if (file.pending) {
    if (file.pending.description !== null) pend.set('description', file.pending.description);
    for (const [k, e] of file.pending.entries) if (k !== 'delete') pend.set(k, e.value);
  }
  const deletes = new Map((file.pending?.deletes ?? []).map((d) => [d.key, d.force]));
  items.push({ key: 'digest', value: file.digest });
  for (const [key, value] of main) {
    const item: PendingItem = { key, value };
    if (pend.has(key)) item.pending = pend.get(key)!;
    if (deletes.has(key)) item.delete = deletes.get(key) ? 2 : 1;
    items.push(item);
  }
  for (const [key, value] of pend) if (!main.has(key)) items.push({ key, pending: value });
  // pve-guest-common takes the per-key hash as "force": a delete of an unset key reads 2.
  for (const key of deletes.keys()) if (!main.has(key) && !pend.has(key)) items.push({ key, delete: 2 });
  let s = seed;
  for (let i = items.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** `/storage` entries of a StorageMap: booleans-looking props as 0/1 numbers, like PVE's JSON. */
export function storageApiEntries(storages: StorageMap): Record<string, unknown>[] {
  return [...storages.values()].map((s) => {
    const e: Record<string, unknown> = { storage: s.id, type: s.type, digest: '0'.repeat(40) };
    for (const [k, v] of Object.entries(s.props)) {
      e[k] = ['shared', 'krbd', 'disable', 'nocow', 'sparse'].includes(k) && parsePveBoolean(v) !== null ? Number(parsePveBoolean(v)) : v;
    }
    return e;
  });
}

export interface ClusterVm {
  vmid: number;
  node: string;
  file: VmConfigFile;
}

/** Serves the VMs (all stopped) of online nodes, the storages, `pve-qemu-kvm` version `qemu` and the token's permissions. */
export function startFakeCluster(
  vms: ClusterVm[],
  storages: StorageMap,
  qemu = '11.0.2-1',
  latencyMs = 0,
  perms: Record<string, Record<string, number>> = { '/': { 'VM.Audit': 1, 'Datastore.Audit': 1, 'Sys.Audit': 1 } },
): Promise<FakePve> {
  const nodes = [...new Set(vms.map((v) => v.node))].sort();
  return startFakePve(
    (req, reply) => {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname.slice('/api2/json'.length));
      if (path === '/cluster/resources') {
        return ok(
          reply,
          vms.map((v) => ({ id: `qemu/${v.vmid}`, type: 'qemu', vmid: v.vmid, node: v.node, status: 'stopped', template: 0 })),
        );
      }
      if (path === '/nodes') return ok(reply, nodes.map((node) => ({ node, status: 'online' })));
      if (path === '/access/permissions') return ok(reply, perms);
      if (path === '/storage') return ok(reply, storageApiEntries(storages));
      let m = /^\/nodes\/([^/]+)\/qemu$/.exec(path);
      if (m) return ok(reply, vms.filter((v) => v.node === m![1]).map((v) => ({ vmid: v.vmid, status: 'stopped' })));
      m = /^\/nodes\/([^/]+)\/apt\/versions$/.exec(path);
      if (m) return ok(reply, [{ Package: 'pve-qemu-kvm', Version: qemu, CurrentState: 'Installed' }]);
      m = /^\/nodes\/([^/]+)\/qemu\/(\d+)\/pending$/.exec(path);
      if (m) {
        const vm = vms.find((v) => v.vmid === Number(m![2]) && v.node === m![1]);
        if (!vm) return fail(reply, 500, `Configuration file 'nodes/${m[1]}/qemu-server/${m[2]}.conf' does not exist`);
        return ok(reply, pendingFromConfig(vm.file, vm.vmid));
      }
      return fail(reply, 501, `Method '${req.method} ${path}' not implemented`);
    },
    { latencyMs },
  );
}
