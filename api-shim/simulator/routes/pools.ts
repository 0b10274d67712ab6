// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/pools` (pve-access-control API2/Pool.pm, PVE >= 8.1): the list of pools the caller has
 * Pool.Audit on, or with `poolid` that one pool with its members (VM entries shaped like
 * `/cluster/resources`, storage entries per node); the deprecated `/pools/{poolid}`.
 */
import { privilegesOn } from '../acl.js';
import { requirePrivs } from '../config-update.js';
import { dieError } from '../errors.js';
import { resourceEntry } from '../metrics.js';
import type { SimPool, SimState } from '../state.js';
import type { RouteDef } from './route.js';

/** Members of a pool: its VMs (optionally only `qemu`), then its storages on this node. */
function members(state: SimState, pool: SimPool, type: string | undefined): unknown[] {
  const out: unknown[] = [];
  if (!type || type === 'qemu') {
    for (const vmid of [...pool.vmids].sort((a, b) => String(a).localeCompare(String(b)))) {
      const vm = state.vms.get(vmid);
      if (vm) out.push(resourceEntry(state, vm, state.config(vm)));
    }
  }
  if (!type || type === 'storage') {
    // The node answering the request is the first one (no proxyto for /pools).
    const node = state.nodes[0]!.name;
    for (const id of [...pool.storages].sort()) {
      const s = state.storage.storages.get(id);
      if (!s || s.disabled || !state.storage.availableOn(id, node)) continue;
      const use = state.storage.usage(id, node, (v) => state.vms.get(v)?.node);
      out.push({
        id: `storage/${node}/${id}`, type: 'storage', storage: id, node, status: 'available', plugintype: s.type,
        content: [...s.content].sort().join(','), shared: s.shared ? 1 : 0, disk: Number(use.used), maxdisk: Number(use.total),
      });
    }
  }
  return out;
}

export const poolRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/pools',
    handler: ({ state, principal, params }) => {
      if (params.poolid) {
        if (!privilegesOn(principal, `/pool/${params.poolid}`).has('Pool.Audit')) return [];
        const pool = state.pools.get(params.poolid);
        if (!pool) throw dieError(`pool '${params.poolid}' does not exist`);
        return [{ members: members(state, pool, params.type), ...(pool.comment !== undefined ? { comment: pool.comment } : {}), poolid: pool.poolid }];
      }
      return [...state.pools.values()]
        .filter((p) => privilegesOn(principal, `/pool/${p.poolid}`).has('Pool.Audit'))
        .sort((a, b) => a.poolid.localeCompare(b.poolid))
        .map((p) => ({ poolid: p.poolid, ...(p.comment !== undefined ? { comment: p.comment } : {}) }));
    },
  },
  {
    method: 'GET',
    path: '/pools/{poolid}',
    handler: ({ state, principal, params }) => {
      requirePrivs(principal, `/pool/${params.poolid}`, ['Pool.Audit']);
      const pool = state.pools.get(params.poolid!);
      if (!pool) throw dieError(`pool '${params.poolid}' does not exist`);
      return { members: members(state, pool, params.type), ...(pool.comment !== undefined ? { comment: pool.comment } : {}) };
    },
  },
];
