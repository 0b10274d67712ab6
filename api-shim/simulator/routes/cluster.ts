// SPDX-License-Identifier: AGPL-3.0-or-later
/** `/version`, `/cluster/*` and `/storage` (docs/how-qemu-server-decides.md#api). */
import { digestOf } from '../../../src/pve/index.js';
import { privilegesOn, type Principal } from '../acl.js';
import { requirePrivs } from '../config-update.js';
import { paramError } from '../errors.js';
import { resourceEntry } from '../metrics.js';
import { metricsExport } from '../metrics-export.js';
import { dieError } from '../errors.js';
import type { SimState } from '../state.js';
import type { RouteDef } from './route.js';
import { forEachWithTurns, turn } from '../turns.js';

function canAuditStorage(p: Principal, storeid: string): boolean {
  const privs = privilegesOn(p, `/storage/${storeid}`);
  return privs.has('Datastore.Audit') || privs.has('Datastore.AllocateSpace');
}

/** storage.cfg properties PVE's SectionConfig returns as 0/1 numbers. */
const STORAGE_BOOLEANS = new Set(['shared', 'krbd', 'sparse', 'disable', 'nocow', 'saferemove', 'mkdir', 'create-base-path', 'create-subdirs', 'tagged_only', 'snapshot-as-volume-chain']);
const STORAGE_INTEGERS = new Set(['maxfiles', 'max-protected-backups', 'port']);

function nodeStats(state: SimState, name: string): Record<string, unknown> {
  const n = state.nodes.find((x) => x.name === name)!;
  const r = state.rng.fork(`nodestat:${name}`);
  return {
    maxcpu: n.cpus,
    cpu: r.next() * 0.3,
    maxmem: n.memBytes,
    mem: Math.round(n.memBytes * (0.3 + r.next() * 0.4)),
    maxdisk: 100 * 1024 ** 3,
    disk: 12 * 1024 ** 3 + r.int(0, 1024 ** 3),
    uptime: state.clock.nowSec() - state.bootTime,
  };
}

/** Node fingerprints (sha256, colon hex) as `/nodes` reports them. */
export function nodeFingerprint(state: SimState, name: string): string {
  const hex = state.rng.fork(`fp:${name}`).hex(64).toUpperCase();
  return hex.match(/../g)!.join(':');
}

export const clusterRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/version',
    handler: ({ state }) => ({ version: state.release.version, release: state.release.release, repoid: state.release.repoid }),
  },
  {
    method: 'GET',
    path: '/cluster/resources',
    handler: async ({ state, principal, params }) => {
      const type = params.type;
      const out: unknown[] = [];
      if (!type || type === 'vm') {
        await forEachWithTurns(state.vms.values(), state.vms.size, (vm) => {
          if (privilegesOn(principal, `/vms/${vm.vmid}`).has('VM.Audit')) out.push(resourceEntry(state, vm, state.config(vm)));
        });
      }
      if (!type || type === 'node') {
        for (const n of state.nodes) {
          const entry: Record<string, unknown> = { id: `node/${n.name}`, type: 'node', node: n.name, status: 'online' };
          if (privilegesOn(principal, `/nodes/${n.name}`).has('Sys.Audit')) {
            Object.assign(entry, nodeStats(state, n.name), { level: '', 'cgroup-mode': 2 });
          }
          out.push(entry);
        }
      }
      if (!type || type === 'storage') {
        for (const s of state.storage.storages.values()) {
          if (s.disabled || !canAuditStorage(principal, s.id)) continue;
          for (const n of state.nodes) {
            if (!state.storage.availableOn(s.id, n.name)) continue;
            const use = state.storage.usage(s.id, n.name, (id) => state.vms.get(id)?.node);
            out.push({
              id: `storage/${n.name}/${s.id}`, type: 'storage', storage: s.id, node: n.name, status: 'available',
              plugintype: s.type, content: [...s.content].sort().join(','), shared: s.shared ? 1 : 0,
              disk: Number(use.used), maxdisk: Number(use.total),
            });
          }
        }
      }
      return out;
    },
  },
  {
    method: 'GET',
    path: '/cluster/metrics/export',
    handler: async ({ state, principal, params }) => {
      requirePrivs(principal, '/', ['Sys.Audit']);
      const list = params['node-list'] ? params['node-list'].split(/[,;\s]+/).filter(Boolean) : undefined;
      const unknown = (list ?? []).filter((n) => !state.nodes.some((x) => x.name === n));
      if (unknown.length > 0) throw dieError(`Requested node-list contains unknown nodes - ${unknown.join(', ')}`);
      // local-only: the node that answers (the first one, where the simulator's API "runs").
      const nodes = list ?? (params['local-only'] === '1' ? [state.nodes[0]!.name] : undefined);
      // The answer is an object whose `data` is the list: `{"data":{"data":[…]}}` on the wire.
      const metrics = await metricsExport(state, {
        history: params.history === '1',
        ...(params['start-time'] !== undefined ? { startTime: Number(params['start-time']) } : {}),
        ...(nodes ? { nodes } : {}),
      }, turn);
      return { data: metrics };
    },
  },
  {
    method: 'GET',
    path: '/cluster/status',
    handler: ({ state, principal }) => {
      requirePrivs(principal, '/', ['Sys.Audit']);
      return [
        { type: 'cluster', id: 'cluster', name: state.clusterName, version: state.nodes.length + 2, nodes: state.nodes.length, quorate: 1 },
        ...state.nodes.map((n, i) => ({
          type: 'node', id: `node/${n.name}`, name: n.name, nodeid: i + 1, ip: `10.10.0.${11 + i}`, local: i === 0 ? 1 : 0, online: 1, level: '',
        })),
      ];
    },
  },
  {
    method: 'GET',
    path: '/cluster/nextid',
    handler: ({ state, params }) => {
      if (params.vmid !== undefined) {
        if (state.vms.has(Number(params.vmid))) throw paramError({ vmid: `VM ${params.vmid} already exists` });
        return params.vmid;
      }
      let id = 100;
      while (state.vms.has(id)) id++;
      return String(id);
    },
  },
  {
    method: 'GET',
    path: '/cluster/ha/resources',
    handler: ({ state, principal, params }) => {
      requirePrivs(principal, '/', ['Sys.Audit']);
      if (params.type && params.type !== 'vm') return [];
      const ha = [...state.vms.values()].filter((v) => v.ha);
      const digest = digestOf(ha.map((v) => `vm: ${v.vmid}\n\tstate ${v.ha!.state}\n`).join('\n'));
      return ha.map((v) => ({
        sid: `vm:${v.vmid}`, type: 'vm', state: v.ha!.state, max_restart: 1, max_relocate: 1, digest,
        ...(state.pveVersion === '8.2' && v.ha!.group ? { group: v.ha!.group } : {}),
        ...(state.pveVersion === '9.1' ? { failback: 1 } : {}),
      }));
    },
  },
  {
    method: 'GET',
    path: '/cluster/ha/status/current',
    handler: ({ state, principal }) => {
      requirePrivs(principal, '/', ['Sys.Audit']);
      const now = state.clock.nowSec();
      const master = state.nodes[0]!.name;
      const out: unknown[] = [
        { id: 'quorum', type: 'quorum', node: master, status: 'OK', quorate: 1 },
        { id: 'master', type: 'master', node: master, status: `${master} (active, ${new Date(now * 1000).toUTCString()})`, timestamp: now },
        ...state.nodes.map((n) => ({ id: `lrm:${n.name}`, type: 'lrm', node: n.name, status: `${n.name} (active, ${new Date(now * 1000).toUTCString()})`, timestamp: now })),
      ];
      for (const v of state.vms.values()) {
        if (!v.ha) continue;
        const crm = v.ha.state === 'started' ? (v.status === 'running' ? 'started' : 'starting') : v.ha.state === 'stopped' ? (v.status === 'running' ? 'request_stop' : 'stopped') : v.ha.state;
        out.push({
          id: `service:vm:${v.vmid}`, type: 'service', sid: `vm:${v.vmid}`, node: v.node, state: v.ha.state, crm_state: crm,
          request_state: v.ha.state, max_restart: 1, max_relocate: 1, status: `vm:${v.vmid} (${v.node}, ${crm})`,
        });
      }
      return out;
    },
  },
  {
    method: 'GET',
    path: '/cluster/backup',
    handler: ({ state, principal }) => {
      requirePrivs(principal, '/', ['Sys.Audit']);
      return state.backupJobs.map((j) => ({
        id: j.id, type: 'vzdump', schedule: j.schedule, storage: j.storage, mode: j.mode, enabled: j.enabled ? 1 : 0,
        ...(j.all ? { all: 1 } : {}), ...(j.vmid ? { vmid: j.vmid } : {}), ...(j.node ? { node: j.node } : {}),
        ...(j.pool ? { pool: j.pool } : {}), ...(j.exclude ? { exclude: j.exclude } : {}),
        ...(j.compress ? { compress: j.compress } : {}), ...(j.fleecing ? { fleecing: j.fleecing } : {}),
        'notes-template': '{{guestname}}',
        ...(j.enabled ? { 'next-run': Math.ceil(state.clock.nowSec() / 3600) * 3600 + 3600 } : {}),
      }));
    },
  },
  {
    method: 'GET',
    path: '/storage',
    handler: ({ state, principal, params }) => {
      const digest = digestOf(state.storage.cfgText);
      const out: unknown[] = [];
      for (const s of state.storage.storages.values()) {
        if (params.type && s.type !== params.type) continue;
        if (!canAuditStorage(principal, s.id)) continue;
        const entry: Record<string, unknown> = { storage: s.id, type: s.type, digest };
        for (const [k, v] of Object.entries(s.props)) {
          entry[k] = STORAGE_BOOLEANS.has(k) || STORAGE_INTEGERS.has(k) ? Number(v) : v;
        }
        entry.content = [...s.content].sort().join(',');
        if (s.nodes) entry.nodes = s.nodes.join(',');
        out.push(entry);
      }
      return out;
    },
  },
];
