// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * collectRiskEvidence against a scripted client: which requests it makes, how answers become
 * facts, and how failures become `{unavailable}` naming the privilege. (The simulator scenarios in
 * test/scenarios cover the same over real HTTP.)
 */
import { describe, expect, it } from 'vitest';
import { collectRiskEvidence, startRiskEvidence } from '../../../src/audit/evidence.js';
import { PveApiError, PveConnectionError, PvePermissionError } from '../../../src/api/errors.js';
import type { StorageEntry } from '../../../src/pve/types.js';

type Handler = (params: Record<string, unknown> | undefined) => unknown;

function fakeClient(routes: Record<string, Handler | unknown>) {
  const calls: string[] = [];
  return {
    calls,
    get: async <T>(path: string, params?: Record<string, unknown>): Promise<T> => {
      calls.push(path);
      const r = routes[path];
      if (r === undefined) throw new PveApiError({ status: 501, text: `Method 'GET ${path}' not implemented`, method: 'GET', path });
      const v = typeof r === 'function' ? (r as Handler)(params) : r;
      if (v instanceof Error) throw v;
      return v as T;
    },
  };
}

const forbidden = (path: string, acl: string, priv: string) =>
  new PvePermissionError({ status: 403, text: `Permission check failed (${acl}, ${priv})`, method: 'GET', path });

const resources = [
  { id: 'qemu/100', type: 'qemu', vmid: 100, node: 'pve1', status: 'running', maxcpu: 8, hastate: 'started', pool: 'db' },
  { id: 'qemu/101', type: 'qemu', vmid: 101, node: 'pve1', status: 'stopped', maxcpu: 4 },
  { id: 'qemu/102', type: 'qemu', vmid: 102, node: 'pve1', status: 'running', maxcpu: 24 },
  { id: 'lxc/200', type: 'lxc', vmid: 200, node: 'pve1', status: 'running', maxcpu: 64 },
];

const baseRoutes = (): Record<string, Handler | unknown> => ({
  '/cluster/resources': resources,
  '/cluster/backup': [
    { id: 'backup-all', type: 'vzdump', all: 1, enabled: 1, schedule: '21:00', storage: 'pbs1', mode: 'snapshot' },
    { id: 'backup-db', type: 'vzdump', pool: 'db', enabled: 1, fleecing: 'enabled=1,storage=local-lvm' },
  ],
  '/nodes/pve1/syslog': [
    { n: 1, t: "Nov 22 07:50:01 pve1 pvestatd[1]: VM 100 qmp command failed - VM 100 qmp command 'query-proxmox-support' failed - got timeout" },
    { n: 2, t: "Nov 22 07:51:01 pve1 pvedaemon[2]: VM 101 qmp command 'guest-ping' failed - got timeout" },
  ],
  '/nodes/pve1/status': { cpuinfo: { cpus: 16, cores: 8, sockets: 1 } },
  // 2026-11-22T08:00:00Z on a node at +01:00 (Vienna in winter).
  '/nodes/pve1/time': { time: 1795334400, localtime: 1795334400 + 3600, timezone: 'Europe/Vienna' },
  '/nodes/pve1/vzdump/defaults': { storage: 'local' },
  '/nodes/pve1/qemu/100/rrddata': [
    { time: 1, diskread: 10 * 1048576, diskwrite: 20 * 1048576 },
    { time: 2, diskread: 0, diskwrite: 10 * 1048576 },
  ],
  '/nodes/pve1/qemu/100/snapshot': [
    { name: 'pre', vmstate: 1, snaptime: 1 },
    { name: 'disk-only', snaptime: 2 },
    { name: 'current', parent: 'disk-only', running: 1 },
  ],
  '/nodes/pve1/qemu/100/config': (p: Record<string, unknown> | undefined) =>
    p?.['snapshot'] === 'pre' ? { vmstate: 'nfs1:100/vm-100-state-pre.raw', scsi0: 'x', digest: 'd' } : new Error(`unexpected ${JSON.stringify(p)}`),
  '/nodes/pve1/qemu/101/snapshot': [{ name: 'current', running: 0 }],
});

const storages = new Map<string, StorageEntry>([['nfs1', { id: 'nfs1', type: 'nfs', props: {} }]]);
const now = () => new Date('2026-11-22T08:00:00Z');

describe('collectRiskEvidence', () => {
  it('turns the answers into facts per VM', async () => {
    const client = fakeClient(baseRoutes());
    const ev = await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'pve1' }, { vmid: 101, node: 'pve1' }], storages }, { now });
    const a = ev.get(100)!;
    expect(a.qmpTimeouts).toMatchObject({ count: 1, windowHours: 24, commands: { 'query-proxmox-support': 1 } });
    expect(a.io).toMatchObject({ timeframe: 'hour', avgBytesPerSec: 20 * 1048576, peakBytesPerSec: 30 * 1048576, samples: 2 });
    // LXC containers and stopped VMs do not count towards running vCPUs.
    expect(a.nodeCpu).toEqual({ node: 'pve1', hostCpus: 16, runningVcpus: 32, vmVcpus: 8 });
    expect(a.ha).toEqual({ managed: true, state: 'started' });
    expect(a.backupJobs).toEqual([
      { id: 'backup-all', fleecing: 'unset', nodeDefaultFleecing: false, mode: 'snapshot', selection: 'all', storage: 'pbs1', schedule: '21:00' },
      { id: 'backup-db', fleecing: 'on', fleecingStorage: 'local-lvm', mode: 'snapshot', selection: 'pool db' },
    ]);
    expect(a.ramSnapshots).toEqual([{ name: 'pre', vmstate: 'nfs1:100/vm-100-state-pre.raw', storage: 'nfs1', storageType: 'nfs', network: true }]);

    const b = ev.get(101)!;
    expect(b.qmpTimeouts).toMatchObject({ count: 0 }); // the guest-ping timeout is the agent, not the main loop
    expect(b.io).toBeUndefined(); // stopped: no rrddata request
    expect(b.ha).toEqual({ managed: false });
    expect(b.ramSnapshots).toEqual([]);
  });

  it('asks each node once and each running VM once, with the window start in the node\'s local time as `since`', async () => {
    const seen: Record<string, unknown>[] = [];
    const routes = baseRoutes();
    const syslog = routes['/nodes/pve1/syslog'];
    routes['/nodes/pve1/syslog'] = (p: Record<string, unknown> | undefined) => (seen.push(p ?? {}), syslog);
    const defaults: unknown[] = [];
    routes['/nodes/pve1/vzdump/defaults'] = (p: Record<string, unknown> | undefined) => (defaults.push(p), { storage: 'local' });
    const client = fakeClient(routes);
    await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'pve1' }, { vmid: 101, node: 'pve1' }], storages }, { now, windowHours: 6, syslogLimit: 1000 });
    const count = (p: string) => client.calls.filter((c) => c === p).length;
    expect(count('/nodes/pve1/syslog')).toBe(1);
    expect(count('/nodes/pve1/status')).toBe(1);
    expect(count('/cluster/backup')).toBe(1);
    expect(count('/cluster/resources')).toBe(1);
    expect(count('/nodes/pve1/time')).toBe(1);
    expect(count('/nodes/pve1/vzdump/defaults')).toBe(1);
    expect(count('/nodes/pve1/qemu/100/rrddata')).toBe(1);
    expect(count('/nodes/pve1/qemu/101/rrddata')).toBe(0);
    // 6 h before 08:00 UTC is 02:00 UTC = 03:00 on the node.
    expect(seen).toEqual([{ since: '2026-11-22 03:00:00', limit: 1000 }]);
    // The job's own storage, so PVE checks the privilege on the storage the job writes to.
    expect(defaults).toEqual([{ storage: 'pbs1' }]);
  });

  it('without the node clock, widens the window by 12 h and marks the count approximate', async () => {
    const seen: Record<string, unknown>[] = [];
    const routes = baseRoutes();
    const syslog = routes['/nodes/pve1/syslog'];
    routes['/nodes/pve1/syslog'] = (p: Record<string, unknown> | undefined) => (seen.push(p ?? {}), syslog);
    routes['/nodes/pve1/time'] = forbidden('/nodes/pve1/time', '/nodes/pve1', 'Sys.Audit');
    const ev = await collectRiskEvidence(fakeClient(routes), { vms: [{ vmid: 100, node: 'pve1' }, { vmid: 101, node: 'pve1' }], storages }, { now });
    expect(seen).toEqual([{ since: '2026-11-20 20:00:00', limit: 50000 }]);
    const approximate = { windowMaxHours: 24 + 12 + 14, why: 'time zone of node pve1 unknown (missing privilege Sys.Audit on /nodes/pve1)' };
    expect(ev.get(100)!.qmpTimeouts).toMatchObject({ count: 1, windowHours: 24, approximate });
    // No timeout in the wider window means none in the window either: still a plain 0.
    expect(ev.get(101)!.qmpTimeouts).toMatchObject({ count: 0, approximate });
  });

  it('an unreadable node default for fleecing names the storage privilege PVE checks', async () => {
    const routes = baseRoutes();
    routes['/nodes/pve1/vzdump/defaults'] = forbidden('/nodes/pve1/vzdump/defaults', '/storage/pbs1', 'Datastore.Audit|Datastore.AllocateSpace');
    const ev = await collectRiskEvidence(fakeClient(routes), { vms: [{ vmid: 100, node: 'pve1' }], storages }, { now });
    expect((ev.get(100)!.backupJobs as Array<{ nodeDefaultFleecing?: unknown }>)[0]!.nodeDefaultFleecing).toEqual({
      unavailable: 'missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs1',
      cause: 'permission',
    });
    // PVE's 403 without detail: the schema's check is named.
    routes['/nodes/pve1/vzdump/defaults'] = new PvePermissionError({ status: 403, text: 'Permission check failed', method: 'GET', path: '/nodes/pve1/vzdump/defaults' });
    const bare = await collectRiskEvidence(fakeClient(routes), { vms: [{ vmid: 100, node: 'pve1' }], storages }, { now });
    expect((bare.get(100)!.backupJobs as Array<{ nodeDefaultFleecing?: unknown }>)[0]!.nodeDefaultFleecing).toMatchObject({
      unavailable: 'missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs1',
    });
  });

  it('reads the node default as PVE prints it: property string, number, parsed object, or absent (off)', async () => {
    const cases: Array<[unknown, boolean]> = [['1,storage=local-lvm', true], ['0', false], [1, true], [{ enabled: 1, storage: 'x' }, true], [undefined, false]];
    for (const [fleecing, on] of cases) {
      const routes = baseRoutes();
      routes['/nodes/pve1/vzdump/defaults'] = fleecing === undefined ? { storage: 'local' } : { storage: 'local', fleecing };
      const ev = await collectRiskEvidence(fakeClient(routes), { vms: [{ vmid: 100, node: 'pve1' }], storages }, { now });
      expect((ev.get(100)!.backupJobs as Array<{ nodeDefaultFleecing?: unknown }>)[0]!.nodeDefaultFleecing, JSON.stringify(fleecing)).toBe(on);
    }
  });

  it('marks a syslog answer that hit the limit as truncated', async () => {
    const client = fakeClient(baseRoutes());
    const ev = await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'pve1' }], storages }, { now, syslogLimit: 2 });
    expect(ev.get(100)!.qmpTimeouts).toMatchObject({ count: 1, truncated: true });
  });

  it('a 403 names the missing privilege; other errors name the request', async () => {
    const routes = baseRoutes();
    routes['/nodes/pve1/syslog'] = forbidden('/nodes/pve1/syslog', '/nodes/pve1', 'Sys.Syslog');
    routes['/cluster/backup'] = new PvePermissionError({ status: 403, text: 'Permission check failed', method: 'GET', path: '/cluster/backup' });
    routes['/nodes/pve1/status'] = new PveApiError({ status: 500, text: 'node pve1 unreachable', method: 'GET', path: '/nodes/pve1/status' });
    const ev = await collectRiskEvidence(fakeClient(routes), { vms: [{ vmid: 100, node: 'pve1' }], storages }, { now });
    const a = ev.get(100)!;
    expect(a.qmpTimeouts).toEqual({ unavailable: 'missing privilege Sys.Syslog on /nodes/pve1', cause: 'permission' });
    // PVE gave no detail: the privilege the endpoint checks (API schema) is named instead.
    expect(a.backupJobs).toEqual({ unavailable: 'missing privilege Sys.Audit on /', cause: 'permission' });
    expect(a.nodeCpu).toEqual({ unavailable: 'API error on GET /nodes/pve1/status: node pve1 unreachable', cause: 'error' });
    expect(a.io).toMatchObject({ samples: 2 });
  });

  it('without the VM list, node load, rrddata and HA are unavailable, syslog still works', async () => {
    const routes = baseRoutes();
    routes['/cluster/resources'] = forbidden('/cluster/resources', '/vms', 'VM.Audit');
    const ev = await collectRiskEvidence(fakeClient(routes), { vms: [{ vmid: 100, node: 'pve1' }], storages }, { now });
    const a = ev.get(100)!;
    for (const f of [a.nodeCpu, a.io, a.ha]) expect(f).toMatchObject({ cause: 'permission' });
    expect(a.qmpTimeouts).toMatchObject({ count: 1 });
  });

  it('skips snapshot reads when asked', async () => {
    const client = fakeClient(baseRoutes());
    const ev = await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'pve1' }], resources, storages }, { now, snapshots: false });
    expect(ev.get(100)!.ramSnapshots).toBeUndefined();
    expect(client.calls.some((c) => c.includes('/snapshot'))).toBe(false);
    expect(client.calls).not.toContain('/cluster/resources');
  });

  it('reads no snapshot list when no storage of the cluster is network or shared (no RAM snapshot can be on one)', async () => {
    const local = new Map<string, StorageEntry>([
      ['local', { id: 'local', type: 'dir', props: {} }],
      ['local-lvm', { id: 'local-lvm', type: 'lvmthin', props: {} }],
    ]);
    const client = fakeClient(baseRoutes());
    const ev = await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'pve1', hasSnapshots: true }], storages: local }, { now });
    expect(ev.get(100)!.ramSnapshots).toEqual([]);
    expect(client.calls.some((c) => c.includes('/snapshot') || c.endsWith('/config'))).toBe(false);
    // A shared directory storage can hold one: then the list is read.
    local.set('san', { id: 'san', type: 'dir', props: { shared: '1' } });
    const shared = fakeClient(baseRoutes());
    await collectRiskEvidence(shared, { vms: [{ vmid: 100, node: 'pve1', hasSnapshots: true }], storages: local }, { now });
    expect(shared.calls).toContain('/nodes/pve1/qemu/100/snapshot');
  });

  it('skips what the caller says no rule needs', async () => {
    const client = fakeClient(baseRoutes());
    const ev = await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'pve1', needsIo: false, hasSnapshots: false }], storages }, { now });
    expect(client.calls.filter((c) => c.startsWith('/nodes/pve1/qemu/'))).toEqual([]);
    expect(ev.get(100)!.io).toBeUndefined();
    expect(ev.get(100)!.ramSnapshots).toEqual([]);
  });

  describe('RAM snapshots from the network storages\' content, when the token sees every storage', () => {
    const twoStorages = new Map<string, StorageEntry>([
      ['nfs1', { id: 'nfs1', type: 'nfs', props: {} }],
      ['local-lvm', { id: 'local-lvm', type: 'lvmthin', props: {} }],
    ]);
    const contentRoutes = (): Record<string, Handler | unknown> => ({
      ...baseRoutes(),
      '/nodes/pve1/storage/nfs1/content': (p: Record<string, unknown> | undefined) =>
        p?.['content'] === 'images'
          ? [
              { volid: 'nfs1:100/vm-100-disk-0.qcow2', vmid: 100, content: 'images', format: 'qcow2' },
              { volid: 'nfs1:100/vm-100-state-pre.raw', vmid: 100, content: 'images', format: 'raw' },
              // A hibernated VM's state (qemu-server vm_suspend), not a snapshot's.
              { volid: 'nfs1:101/vm-101-state-suspend-2026-11-21.raw', vmid: 101, content: 'images', format: 'raw' },
            ]
          : new Error(`unexpected ${JSON.stringify(p)}`),
    });
    const vms = [{ vmid: 100, node: 'pve1', hasSnapshots: true }, { vmid: 101, node: 'pve1', hasSnapshots: true }];
    const run = (client: ReturnType<typeof fakeClient>, permissions: Record<string, Record<string, 0 | 1>> | Error) => {
      const started = startRiskEvidence(client, { nodes: ['pve1'] }, { now });
      return collectRiskEvidence(client, { vms, storages: twoStorages, permissions: Promise.resolve(permissions) }, { now }, started);
    };

    it('lists each network storage once instead of reading a snapshot list per VM, with the same facts', async () => {
      const client = fakeClient(contentRoutes());
      const ev = await run(client, { '/': { 'Datastore.Audit': 1, 'VM.Audit': 1 } });
      expect(ev.get(100)!.ramSnapshots).toEqual([{ name: 'pre', vmstate: 'nfs1:100/vm-100-state-pre.raw', storage: 'nfs1', storageType: 'nfs', network: true }]);
      expect(ev.get(101)!.ramSnapshots).toEqual([]);
      expect(client.calls.filter((c) => c.includes('/snapshot') || c.endsWith('/config'))).toEqual([]);
      // The local storage cannot hold a RAM snapshot the rule reports: not listed.
      expect(client.calls.filter((c) => c.includes('/storage/'))).toEqual(['/nodes/pve1/storage/nfs1/content']);
    });

    it('reads the snapshot lists when a storage may be hidden from the token (its RAM snapshots would be NOT_CHECKED)', async () => {
      const client = fakeClient(contentRoutes());
      // An ACL on one storage replaced the inherited Datastore.Audit: /storage may not list it.
      const ev = await run(client, { '/': { 'Datastore.Audit': 1, 'VM.Audit': 1 }, '/storage/secret': { 'Datastore.AllocateTemplate': 1 } });
      expect(client.calls).toContain('/nodes/pve1/qemu/100/snapshot');
      expect(client.calls.some((c) => c.includes('/storage/'))).toBe(false);
      expect(ev.get(100)!.ramSnapshots).toEqual([{ name: 'pre', vmstate: 'nfs1:100/vm-100-state-pre.raw', storage: 'nfs1', storageType: 'nfs', network: true }]);
      const unreadable = fakeClient(contentRoutes());
      await run(unreadable, new Error('permissions not readable'));
      expect(unreadable.calls).toContain('/nodes/pve1/qemu/100/snapshot');
    });

    it('reads the snapshot lists when a listing fails', async () => {
      const routes = contentRoutes();
      routes['/nodes/pve1/storage/nfs1/content'] = forbidden('/nodes/pve1/storage/nfs1/content', '/storage/nfs1', 'Datastore.Audit|Datastore.AllocateSpace');
      const client = fakeClient(routes);
      const ev = await run(client, { '/': { 'VM.Audit': 1 }, '/storage': { 'Datastore.Audit': 1 } });
      expect(client.calls).toContain('/nodes/pve1/storage/nfs1/content');
      expect(client.calls).toContain('/nodes/pve1/qemu/100/snapshot');
      expect(ev.get(100)!.ramSnapshots).toEqual([{ name: 'pre', vmstate: 'nfs1:100/vm-100-state-pre.raw', storage: 'nfs1', storageType: 'nfs', network: true }]);
    });
  });

  it('rethrows an abort instead of reporting it as a fact', async () => {
    const routes = baseRoutes();
    routes['/cluster/backup'] = new PveConnectionError({ status: 0, text: 'Request aborted', method: 'GET', path: '/cluster/backup', kind: 'aborted', maybeSent: false });
    await expect(collectRiskEvidence(fakeClient(routes), { vms: [{ vmid: 100, node: 'pve1' }] }, { now })).rejects.toThrow('Request aborted');
  });
});
