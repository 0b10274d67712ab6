// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every real response in test/fixtures/pve-api, served byte for byte over a socket and read through
 * the endpoint function that requests it: the client must parse PVE's real shapes (0/1 booleans,
 * `memory` as string, `vmid` as string on 6.2, random key order, `total`, `{"data":null}`).
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PveClient } from '../../../src/api/client.js';
import { fetchPermissions } from '../../../src/api/endpoints/access.js';
import { hasPrivilege } from '../../../src/pve/permissions.js';
import { fetchClusterResources, fetchClusterStatus } from '../../../src/api/endpoints/cluster.js';
import { fetchNodeRrdData, fetchNodes } from '../../../src/api/endpoints/nodes.js';
import {
  fetchVmConfig,
  fetchVmRrdData,
  fetchVmSnapshots,
  fetchVmStatus,
  updateVmConfig,
} from '../../../src/api/endpoints/qemu.js';
import { fetchNodeStorageStatus } from '../../../src/api/endpoints/storage.js';
import { fetchNodeTasks, fetchTaskLog, fetchTaskStatus, parseUpid } from '../../../src/api/endpoints/tasks.js';
import { fetchVersion } from '../../../src/api/endpoints/version.js';
import { type FakePve, fixtureText, ok, startFakePve } from './helpers/fake-pve.js';

/** Request (method + path below /api2/json, no query) -> fixture file answering it. */
const ROUTES: Record<string, string> = {};
let server: FakePve;
let client: PveClient;
const used = new Set<string>();

function route(method: string, path: string, file: string): string {
  ROUTES[`${method} ${path}`] = file;
  return path;
}

beforeAll(async () => {
  server = await startFakePve((req, reply) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname.slice('/api2/json'.length));
    const file = ROUTES[`${req.method} ${path}`];
    if (!file) return reply.code(501).send('{"data":null}');
    used.add(file);
    // The captured body exactly as published.
    return reply.header('content-type', 'application/json;charset=UTF-8').send(fixtureText(file));
  });
  client = new PveClient({ baseUrl: server.url, auth: { kind: 'token', token: 'root@pam!fixture=x' } });
});
afterAll(() => server.close());

describe('real PVE responses parse through the endpoint functions', () => {
  it('GET /cluster/resources (PVE 8.0, mixed types) and ?type=vm (qemu only, tags only when set)', async () => {
    route('GET', '/cluster/resources', 'cluster-resources.json');
    const all = await fetchClusterResources(client);
    expect(new Set(all.map((r) => r.type))).toEqual(new Set(['node', 'qemu', 'storage']));
    const qemu = all.filter((r) => r.type === 'qemu');
    expect(qemu.length).toBeGreaterThan(0);
    for (const vm of qemu) {
      expect(typeof vm.vmid).toBe('number');
      expect(vm.id).toBe(`qemu/${vm.vmid}`);
      expect([0, 1]).toContain(vm.template);
    }
    ROUTES['GET /cluster/resources'] = 'cluster-resources-type-vm.json';
    const vms = await fetchClusterResources(client, { type: 'vm' });
    expect(vms.map((v) => [v.vmid, v.tags ?? null, v.template])).toEqual([
      [100, null, 0],
      [101, 'blue;red', 0],
      [102, 'blue', 1],
    ]);
  });

  it('GET /cluster/status and /nodes (with ssl_fingerprint)', async () => {
    route('GET', '/cluster/status', 'cluster-status.json');
    const status = await fetchClusterStatus(client);
    expect(status.find((e) => e.type === 'cluster')).toMatchObject({ quorate: 1, nodes: 4 });
    expect(status.filter((e) => e.type === 'node')).toHaveLength(4);
    route('GET', '/nodes', 'nodes.json');
    const nodes = await fetchNodes(client);
    expect(nodes.map((n) => n.node).sort()).toEqual(['node1', 'node2', 'node3', 'node4']);
    for (const n of nodes) expect(n.ssl_fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('GET .../config: memory as string (8.1+), 0/1 numbers, digest, template; PVE 6.2 and 7.4 shapes', async () => {
    route('GET', '/nodes/pve/qemu/100/config', 'nodes-NODE-qemu-VMID-config.json');
    const cfg = await fetchVmConfig(client, 'pve', 100, { current: true });
    expect(server.requests.at(-1)!.url).toBe('/nodes/pve/qemu/100/config?current=1');
    expect(cfg).toMatchObject({ memory: '2048', numa: 0, cores: 1, scsihw: 'virtio-scsi-single' });
    expect(cfg.digest).toMatch(/^[0-9a-f]{40}$/);
    expect(cfg['scsi0']).toBe('local-lvm:vm-100-disk-0,iothread=1,size=32G');
    route('GET', '/nodes/pve/qemu/101/config', 'nodes-NODE-qemu-VMID-config-tags.json');
    expect((await fetchVmConfig(client, 'pve', 101))['tags']).toBe('blue;red');
    route('GET', '/nodes/pve/qemu/102/config', 'nodes-NODE-qemu-VMID-config-template.json');
    expect((await fetchVmConfig(client, 'pve', 102))['template']).toBe(1);
    route('GET', '/nodes/pve/qemu/103/config', 'nodes-NODE-qemu-VMID-config-pve6.2.json');
    expect((await fetchVmConfig(client, 'pve', 103))['virtio0']).toBe('local-lvm:vm-101-disk-0,backup=0,replicate=0,size=1G');
    route('GET', '/nodes/proxmox-noris/qemu/101/config', 'nodes-NODE-qemu-VMID-config-pve7.4-minimal.json');
    expect((await fetchVmConfig(client, 'proxmox-noris', 101))['boot']).toBe(' ');
  });

  it('pvesh json-pretty output is the bare data object of GET .../config', () => {
    const data = JSON.parse(fixtureText('pvesh-get-qemu-config-json-pretty-pve8.1.txt')) as Record<string, unknown>;
    expect(data).toMatchObject({ memory: '8192', scsihw: 'virtio-scsi-single', onboot: 1, parent: 'gpu-ok-157' });
  });

  it('GET .../status/current: running (8.0, 8.3) with running-machine/-qemu; stopped 6.2 (vmid string) and 7.4', async () => {
    route('GET', '/nodes/node1/qemu/101/status/current', 'nodes-NODE-qemu-VMID-status-current-running.json');
    const run = await fetchVmStatus(client, 'node1', 101);
    expect(run).toMatchObject({ status: 'running', 'running-machine': 'pc-i440fx-8.0+pve0', 'running-qemu': '8.0.2' });
    route('GET', '/nodes/pve/qemu/200/status/current', 'nodes-NODE-qemu-VMID-status-current-running-pve8.3.json');
    const run83 = await fetchVmStatus(client, 'pve', 200);
    expect(run83.status).toBe('running');
    expect(run83['running-qemu']).toBe('9.0.2');
    expect(run83['clipboard']).toBeNull();
    route('GET', '/nodes/pve/qemu/100/status/current', 'nodes-NODE-qemu-VMID-status-current-stopped-pve6.2.json');
    const old = await fetchVmStatus(client, 'pve', 100);
    expect([old.vmid, old.template, old.pid, old.ha?.managed]).toEqual(['100', '', null, 0]);
    route('GET', '/nodes/proxmox-noris/qemu/101/status/current', 'nodes-NODE-qemu-VMID-status-current-stopped-pve7.4.json');
    expect((await fetchVmStatus(client, 'proxmox-noris', 101)).vmid).toBe(101);
  });

  it('GET .../rrddata (VM and node) and .../snapshot', async () => {
    route('GET', '/nodes/node1/qemu/101/rrddata', 'nodes-NODE-qemu-VMID-rrddata-hour.json');
    const points = await fetchVmRrdData(client, 'node1', 101, { timeframe: 'hour', cf: 'AVERAGE' });
    expect(server.requests.at(-1)!.url).toBe('/nodes/node1/qemu/101/rrddata?timeframe=hour&cf=AVERAGE');
    expect(points.length).toBe(70);
    for (const p of points) expect(Number.isInteger(p.time)).toBe(true);
    route('GET', '/nodes/pve/rrddata', 'nodes-NODE-rrddata-hour-pve6.2.json');
    const node = await fetchNodeRrdData(client, 'pve', { timeframe: 'hour' });
    expect(node.length).toBeGreaterThan(0);
    route('GET', '/nodes/proxmox-noris/qemu/101/snapshot', 'nodes-NODE-qemu-VMID-snapshot-pve7.4.json');
    const snaps = await fetchVmSnapshots(client, 'proxmox-noris', 101);
    expect(snaps.map((s) => [s.name, s.parent ?? null])).toEqual([
      ['snapshot1', null],
      ['current', 'snapshot1'],
    ]);
  });

  it('GET /nodes/{node}/storage and /version (PVE 6.2 with its extra keyboard member)', async () => {
    route('GET', '/nodes/pve/storage', 'nodes-NODE-storage-pve6.2.json');
    const st = await fetchNodeStorageStatus(client, 'pve');
    expect(st.map((s) => [s.storage, s.type, s.active])).toEqual([
      ['local-lvm', 'lvmthin', 1],
      ['local', 'dir', 1],
    ]);
    route('GET', '/version', 'version-pve6.2.json');
    expect(await fetchVersion(client)).toMatchObject({ version: '6.2-4', release: '6.2', repoid: '9824574a' });
  });

  it('tasks: list with total, status running / stopped OK, log with total', async () => {
    route('GET', '/nodes/proxmox-noris/tasks', 'nodes-NODE-tasks-pve7.4.json');
    const list = await fetchNodeTasks(client, 'proxmox-noris', { vmid: 101 });
    expect(list.total).toBe(761);
    for (const t of list.tasks) expect(parseUpid(t.upid)).toMatchObject({ node: t.node, type: t.type, id: t.id });
    const running = 'UPID:pve:00000AA5:0000CAE5:5FBE5E5F:qmconfig:100:root@pam:';
    const done = 'UPID:pve:000007B6:0000979C:5FBE5DDB:qmconfig:100:root@pam:';
    route('GET', `/nodes/pve/tasks/${running}/status`, 'tasks-UPID-status-running.json');
    route('GET', `/nodes/pve/tasks/${done}/status`, 'tasks-UPID-status-stopped-ok.json');
    route('GET', `/nodes/pve/tasks/${running}/log`, 'tasks-UPID-log-qmconfig-running.json');
    route('GET', `/nodes/pve/tasks/${done}/log`, 'tasks-UPID-log-qmconfig-done.json');
    expect((await fetchTaskStatus(client, 'pve', running)).exitstatus).toBeUndefined();
    expect(await fetchTaskStatus(client, 'pve', done)).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    expect(await fetchTaskLog(client, 'pve', done)).toEqual({
      lines: [
        { n: 1, t: 'update VM 100: -delete ide0' },
        { n: 2, t: 'TASK OK' },
      ],
      total: 2,
    });
    expect((await fetchTaskLog(client, 'pve', running)).total).toBe(1);
  });

  it('writes: POST config -> UPID (digest sent), PUT snapshot config -> null, POST /access/ticket', async () => {
    route('POST', '/nodes/pve/qemu/100/config', 'nodes-NODE-qemu-VMID-config-POST-async-upid.json');
    const upid = await updateVmConfig(client, 'pve', 100, { virtio0: 'local-lvm:1,backup=0,replicate=0' }, { digest: 'a'.repeat(40) });
    expect(parseUpid(upid!)).toMatchObject({ type: 'qmconfig', id: '100' });
    expect(server.requests.at(-1)!.body).toEqual({ virtio0: 'local-lvm:1,backup=0,replicate=0', digest: 'a'.repeat(40) });
    expect(() => updateVmConfig(client, 'pve', 100, { scsihw: 'virtio-scsi-single' }, { digest: '' })).toThrow(/digest is required/);
    route('PUT', '/nodes/proxmox-noris/qemu/101/snapshot/snapshot1/config', 'nodes-NODE-qemu-VMID-snapshot-SNAP-config-PUT-pve7.4.json');
    expect(await client.put('/nodes/proxmox-noris/qemu/101/snapshot/snapshot1/config', { description: 'Snapshot 1' })).toBeNull();
    route('POST', '/nodes/proxmox-noris/qemu', 'nodes-NODE-qemu-POST-create-upid-pve7.4.json');
    expect(parseUpid(await client.post<string>('/nodes/proxmox-noris/qemu', { vmid: 101 }))).not.toBeNull();
  });

  it('ticket logins of PVE 8.0 and 6.2 (cap objects of 0/1 numbers)', async () => {
    for (const file of ['access-ticket.json', 'access-ticket-pve6.2.json']) {
      ROUTES['POST /access/ticket'] = file;
      const c = new PveClient({ baseUrl: server.url, auth: { kind: 'ticket', username: 'root@pam', password: 'x' } });
      const t = await c.login();
      expect(t.username).toBe('root@pam');
      expect(c.currentTicket!.ticket).toMatch(/^PVE:root@pam:[0-9A-F]{8}::/);
      expect(c.currentTicket!.csrfToken).toMatch(/^[0-9A-F]{8}:/);
      expect(t.cap!['vms']!['VM.Audit']).toBe(1);
      used.add(file);
    }
  });

  it('covers every JSON fixture in the directory', () => {
    const jsonFiles = readdirSync(new URL('../../fixtures/pve-api/', import.meta.url)).filter((f) => f.endsWith('.json'));
    expect(jsonFiles.filter((f) => !used.has(f))).toEqual([]);
  });
});

describe('hasPrivilege on a GET /access/permissions map', () => {
  it('reads the map and honours propagation from parent paths', async () => {
    server.requests.length = 0;
    const perms = { '/vms': { 'VM.Audit': 1 as const }, '/storage/local': { 'Datastore.Audit': 0 as const } };
    const s = await startFakePve((_req, reply) => ok(reply, perms));
    try {
      const c = new PveClient({ baseUrl: s.url, auth: { kind: 'token', token: 'audit@pve!ro=x' } });
      const got = await fetchPermissions(c);
      expect(hasPrivilege(got, '/vms/100', 'VM.Audit')).toBe(true);
      expect(hasPrivilege(got, '/storage/local', 'Datastore.Audit')).toBe(true);
      expect(hasPrivilege(got, '/storage/local/sub', 'Datastore.Audit')).toBe(false);
      expect(hasPrivilege(got, '/vms/100', 'VM.Config.Disk')).toBe(false);
    } finally {
      await s.close();
    }
  });
});
