// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Read-only cluster views of the web UI's Datacenter: options (datacenter.cfg), corosync
 * nodes and join information, the cluster log, HA groups and rules, replication, ACME, metric
 * servers, resource mappings and realm sync jobs. What the simulated cluster does not have is
 * answered as an empty list, shaped as PVE answers it.
 */
import { digestOf } from '../../../src/pve/index.js';
import { privilegesOn } from '../acl.js';
import { requirePrivs } from '../config-update.js';
import { dieError, PveError } from '../errors.js';
import type { SimState } from '../state.js';
import { nodeFingerprint } from './cluster.js';
import type { RouteDef } from './route.js';

/** Address of a node on the cluster network (the one /cluster/status reports). */
export function nodeIp(state: SimState, node: string): string {
  return `10.10.0.${11 + state.nodes.findIndex((n) => n.name === node)}`;
}

/** corosync.conf nodelist entries. */
function corosyncNodes(state: SimState): Array<Record<string, unknown>> {
  return state.nodes.map((n, i) => ({ name: n.name, nodeid: i + 1, quorum_votes: 1, ring0_addr: nodeIp(state, n.name) }));
}

/** HA groups of the fleet (`FleetVm.ha.group`), with their member VMs. */
function haGroups(state: SimState): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const vm of state.vms.values()) {
    const g = vm.ha?.group;
    if (!g) continue;
    const members = groups.get(g) ?? [];
    members.push(vm.vmid);
    groups.set(g, members);
  }
  return groups;
}

/** An endpoint the simulated release does not have: RESTHandler's 501. */
function notInRelease(path: string): PveError {
  return new PveError(501, `Method 'GET ${path}' not implemented\n`);
}

/** Sys.Audit on `/` (the check of most Datacenter lists). */
const auditRoot: RouteDef['handler'] = ({ principal }) => requirePrivs(principal, '/', ['Sys.Audit']);

/** A list the simulated cluster has no entries for, behind Sys.Audit on `/`. */
const emptyAudited = (path: string): RouteDef => ({
  method: 'GET',
  path,
  handler: (ctx) => {
    auditRoot(ctx);
    return [];
  },
});

export const clusterConfigRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/cluster/options',
    handler: ({ state, principal }) => {
      // datacenter.cfg is empty on the simulated cluster; `allowed-tags` lists the tags the
      // caller can see on guests (GuestHelpers get_allowed_tags).
      const tags = new Set<string>();
      for (const vm of state.vms.values()) {
        if (!privilegesOn(principal, `/vms/${vm.vmid}`).has('VM.Audit')) continue;
        const t = state.config(vm).main.entries.get('tags')?.value;
        if (t) for (const tag of t.split(/[;, ]+/)) if (tag) tags.add(tag);
      }
      return { 'allowed-tags': [...tags].sort() };
    },
  },
  {
    method: 'GET',
    path: '/cluster/config/nodes',
    handler: (ctx) => {
      auditRoot(ctx);
      return corosyncNodes(ctx.state).map((n) => ({ ...n, node: n.name }));
    },
  },
  {
    method: 'GET',
    path: '/cluster/config/join',
    handler: (ctx) => {
      auditRoot(ctx);
      const { state, params } = ctx;
      const preferred = params.node ?? state.localNode;
      if (!state.nodes.some((n) => n.name === preferred)) throw dieError(`no node '${preferred}' in cluster`);
      const nodelist = corosyncNodes(state).map((n) => ({ ...n, pve_addr: n.ring0_addr, pve_fp: nodeFingerprint(state, n.name as string) }));
      const totem = { cluster_name: state.clusterName, config_version: String(state.nodes.length + 2), interface: { 0: { linknumber: '0' } }, ip_version: 'ipv4-6', link_mode: 'passive', secauth: 'on', version: '2' };
      return { config_digest: digestOf(JSON.stringify({ nodelist, totem })), nodelist, preferred_node: preferred, totem };
    },
  },
  {
    method: 'GET',
    path: '/cluster/log',
    handler: ({ state, principal, params }) => {
      // The cluster log: pvedaemon's task start/end lines of every node, newest first. Without
      // Sys.Syslog on / a user sees only its own entries.
      const max = Number(params.max ?? 0) || 50;
      const all = privilegesOn(principal, '/').has('Sys.Syslog');
      const out: Array<Record<string, unknown>> = [];
      let uid = 0;
      for (const t of state.tasks.recent(max)) {
        if (!all && t.user !== principal.id) continue;
        const base = { node: t.node, user: t.user, tag: 'pvedaemon', pid: 1000 + (t.pid % 3000), pri: 6 };
        if (t.status === 'stopped') out.push({ ...base, uid: ++uid, time: t.endtime, msg: `end task ${t.upid} ${t.exitstatus}` });
        out.push({ ...base, uid: ++uid, time: t.starttime, msg: `starting task ${t.upid}` });
      }
      return out.sort((a, b) => (b.time as number) - (a.time as number)).slice(0, max);
    },
  },
  {
    method: 'GET',
    path: '/cluster/ha/groups',
    handler: (ctx) => {
      auditRoot(ctx);
      // PVE 9 migrates HA groups to node-affinity rules; the index then refuses (Groups.pm).
      if (ctx.state.pveVersion === '9.1') throw dieError('cannot index groups: ha groups have been migrated to rules');
      return [...haGroups(ctx.state).keys()].sort().map((group) => ({ group, type: 'group', nodes: ctx.state.nodeNames().join(','), restricted: 0, nofailback: 0 }));
    },
  },
  {
    method: 'GET',
    path: '/cluster/ha/rules',
    handler: (ctx) => {
      if (ctx.state.pveVersion === '8.2') throw notInRelease('/cluster/ha/rules');
      auditRoot(ctx);
      const { state, params } = ctx;
      if (params.type && params.type !== 'node-affinity') return [];
      const out: Array<Record<string, unknown>> = [];
      for (const [group, vmids] of [...haGroups(state).entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const resources = vmids.sort((a, b) => a - b).map((v) => `vm:${v}`);
        if (params.resource && !resources.includes(params.resource)) continue;
        out.push({ rule: `ha-group-${group}`, type: 'node-affinity', resources: resources.join(','), nodes: state.nodeNames().join(','), strict: 0, order: out.length + 1 });
      }
      const digest = digestOf(JSON.stringify(out));
      return out.map((r) => ({ ...r, digest }));
    },
  },
  {
    method: 'GET',
    path: '/cluster/replication',
    // No replication jobs (the simulated storages are shared or not ZFS-replicated).
    handler: () => [],
  },
  {
    method: 'GET',
    path: '/cluster/acme/account',
    handler: () => [],
  },
  {
    method: 'GET',
    path: '/cluster/acme/plugins',
    handler: ({ principal }) => {
      requirePrivs(principal, '/', ['Sys.Modify']);
      return [];
    },
  },
  emptyAudited('/cluster/metrics/server'),
  emptyAudited('/cluster/jobs/realm-sync'),
  // Mappings list what the caller may see of /mapping/...; the simulated cluster has none.
  ...['pci', 'usb', 'dir'].map((kind): RouteDef => ({ method: 'GET', path: `/cluster/mapping/${kind}`, handler: () => [] })),
];
