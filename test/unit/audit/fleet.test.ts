// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * collectFleet against a small fake cluster over a real socket: what it reads, how many requests
 * it needs, and how it reports what a token may not read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PveClient } from '../../../src/api/client.js';
import type { PendingItem } from '../../../src/api/endpoints/qemu.js';
import { type FleetProgress, collectFleet, vmInputFromPending } from '../../../src/audit/fleet.js';
import { type FakePve, fail, ok, startFakePve } from '../api/helpers/fake-pve.js';

interface FakeVm {
  vmid: number;
  node: string;
  status: 'running' | 'stopped';
  pending: PendingItem[];
  hastate?: string;
  runningMachine?: string;
  /** Answer /pending with this 403 text instead. */
  forbidden?: string;
}

const VMS: FakeVm[] = [
  {
    vmid: 100,
    node: 'pve1',
    status: 'running',
    runningMachine: 'pc-i440fx-9.0+pve0',
    hastate: 'started',
    pending: [
      { key: 'digest', value: '1ac0a42d3ead982a5631ee77a9444b44e5ff5456' },
      { key: 'scsihw', value: 'virtio-scsi-pci', pending: 'virtio-scsi-single' },
      { key: 'scsi0', value: 'local-lvm:vm-100-disk-0,size=32G', pending: 'local-lvm:vm-100-disk-0,iothread=1,size=32G' },
      { key: 'ide2', value: 'none,media=cdrom', delete: 1 },
      { key: 'cores', value: 2 },
      { key: 'description', value: 'db server\nsecond line' },
    ],
  },
  {
    vmid: 101,
    node: 'pve2',
    status: 'stopped',
    pending: [
      { key: 'digest', value: 'a3a5061cd0f35f0aa14fd98b20095963d53cd225' },
      { key: 'scsi0', value: 'ceph:vm-101-disk-0,size=8G' },
      { key: 'virtio1', pending: 'local-lvm:vm-101-disk-1,size=4G' },
      { key: 'unused0', delete: 2 },
    ],
  },
  { vmid: 102, node: 'pve2', status: 'stopped', pending: [], forbidden: 'Permission check failed (/vms/102, VM.Audit)' },
  { vmid: 103, node: 'pve3', status: 'stopped', pending: [] },
];

/** A read-only token: VM.Audit on /vms, Datastore.Audit on two storages only (not on `ceph`). */
const TOKEN_PERMS = {
  '/vms': { 'VM.Audit': 1 },
  '/storage/local-lvm': { 'Datastore.Audit': 1 },
  '/storage/rbd-krbd': { 'Datastore.Audit': 1 },
  '/nodes/pve1': { 'Sys.Audit': 1 },
};

/** pve1: Sys.Audit (apt/versions readable); pve2: not (403); pve3: offline. `ceph` is not visible in /storage. */
async function fakeCluster(
  vms: FakeVm[] = VMS,
  perms: Record<string, Record<string, number>> | null = TOKEN_PERMS,
  opts: { storageFails?: boolean; holdPending?: number; holdQemuList?: { node: string; until: Promise<void> } } = {},
): Promise<FakePve> {
  // With holdPending N, /pending answers wait until N of them are on the wire (or 10 s passed), so a
  // concurrency limit shows as a count, whatever the machine's load.
  let waiting = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const deadline = setTimeout(() => release(), 10_000);
  deadline.unref();
  return startFakePve(
    async (req, reply) => {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname.slice('/api2/json'.length));
      if (path === '/access/permissions') return perms ? ok(reply, perms) : fail(reply, 501, "Method 'GET /access/permissions' not implemented");
      if (path === '/cluster/resources') {
        return ok(reply, [
          ...vms.map((v) => ({
            id: `qemu/${v.vmid}`,
            type: 'qemu',
            vmid: v.vmid,
            node: v.node,
            name: `vm${v.vmid}`,
            status: v.node === 'pve3' ? 'unknown' : v.status,
            template: 0,
            ...(v.hastate ? { hastate: v.hastate } : {}),
          })),
          { id: 'lxc/200', type: 'lxc', vmid: 200, node: 'pve1', status: 'running', template: 0 },
        ]);
      }
      if (path === '/nodes') {
        return ok(reply, [
          { node: 'pve1', status: 'online' },
          { node: 'pve2', status: 'online' },
          { node: 'pve3', status: 'offline' },
        ]);
      }
      if (path === '/storage') {
        if (opts.storageFails) return fail(reply, 500, 'storage config locked');
        return ok(reply, [
          { storage: 'local-lvm', type: 'lvmthin', content: 'images,rootdir', thinpool: 'data', vgname: 'pve', digest: 'x' },
          { storage: 'rbd-krbd', type: 'rbd', content: 'images', krbd: 1, pool: 'vm', digest: 'x' },
        ]);
      }
      let m = /^\/nodes\/([^/]+)\/qemu$/.exec(path);
      if (m) {
        if (opts.holdQemuList?.node === m[1]) await opts.holdQemuList.until;
        return ok(
          reply,
          vms
            .filter((v) => v.node === m![1])
            .map((v) => ({
              vmid: v.vmid,
              status: v.status,
              name: `vm${v.vmid}`,
              ...(v.runningMachine ? { 'running-machine': v.runningMachine, 'running-qemu': '9.0.2' } : {}),
            })),
        );
      }
      if (path === '/nodes/pve1/apt/versions') {
        return ok(reply, [
          { Package: 'proxmox-ve', Version: '9.0.0' },
          { Package: 'pve-qemu-kvm', Version: '9.2.0-5', CurrentState: 'Installed' },
        ]);
      }
      if (path === '/nodes/pve2/apt/versions') return fail(reply, 403, 'Permission check failed (/nodes/pve2, Sys.Audit)');
      if (path === '/nodes/pve2/capabilities/qemu/machines') {
        return ok(reply, [
          { id: 'pc-i440fx-9.2+pve1', type: 'i440fx', version: '9.2+pve1' },
          { id: 'pc-q35-10.0+pve1', type: 'q35', version: '10.0+pve1' },
          { id: 'pc-i440fx-10.0', type: 'i440fx', version: '10.0' },
        ]);
      }
      m = /^\/nodes\/([^/]+)\/qemu\/(\d+)\/pending$/.exec(path);
      if (m) {
        const vm = vms.find((v) => v.vmid === Number(m![2]))!;
        if (vm.forbidden) return fail(reply, 403, vm.forbidden);
        if (opts.holdPending) {
          if (++waiting >= opts.holdPending) release();
          await gate;
        }
        return ok(reply, vm.pending);
      }
      return fail(reply, 501, `Method '${req.method} ${path}' not implemented`);
    },
    { latencyMs: 2 },
  );
}

let server: FakePve | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function clientFor(s: FakePve, concurrency = 4): PveClient {
  return new PveClient({ baseUrl: s.url, auth: { kind: 'token', token: 'audit@pve!ro=x' }, concurrency, retryDelayMs: 1 });
}

describe('collectFleet', () => {
  it('builds one VmInput per readable VM from its /pending answer, with runtime and HA state', async () => {
    server = await fakeCluster();
    const { inputs } = await collectFleet(clientFor(server));
    expect(inputs.map((i) => i.vmid)).toEqual([100, 101]);
    const [a, b] = inputs;
    expect(a).toMatchObject({
      node: 'pve1',
      source: 'api:/nodes/pve1/qemu/100',
      digest: '1ac0a42d3ead982a5631ee77a9444b44e5ff5456',
      current: {
        scsihw: 'virtio-scsi-pci',
        scsi0: 'local-lvm:vm-100-disk-0,size=32G',
        ide2: 'none,media=cdrom',
        cores: '2',
        description: 'db server\nsecond line',
      },
      pending: { scsihw: 'virtio-scsi-single', scsi0: 'local-lvm:vm-100-disk-0,iothread=1,size=32G' },
      deletes: [{ key: 'ide2', force: false }],
      runtime: { status: 'running', name: 'vm100', runningMachine: 'pc-i440fx-9.0+pve0', runningQemu: '9.0.2', haState: 'started' },
    });
    expect(a!.current['digest']).toBeUndefined();
    expect(b).toMatchObject({
      current: { scsi0: 'ceph:vm-101-disk-0,size=8G' },
      pending: { virtio1: 'local-lvm:vm-101-disk-1,size=4G' },
      deletes: [{ key: 'unused0', force: true }],
      runtime: { status: 'stopped', name: 'vm101' },
    });
    expect(b!.runtime!.runningMachine).toBeUndefined();
  });

  it('needs exactly one request per VM plus a fixed few per cluster and per node', async () => {
    server = await fakeCluster();
    await collectFleet(clientFor(server));
    const byPath = server.requests.map((r) => r.url.replace(/\?.*$/, ''));
    const perVm = byPath.filter((p) => p.startsWith('/nodes/') && /\/qemu\/\d+/.test(p));
    // 100, 101 and the forbidden 102; never 103 on the offline node; no config/status calls.
    expect(perVm.sort()).toEqual(['/nodes/pve1/qemu/100/pending', '/nodes/pve2/qemu/101/pending', '/nodes/pve2/qemu/102/pending']);
    expect(byPath.filter((p) => p === '/nodes/pve1/qemu' || p === '/nodes/pve2/qemu')).toHaveLength(2);
    expect(server.requests.find((r) => r.url.startsWith('/nodes/pve1/qemu?'))!.url).toBe('/nodes/pve1/qemu?full=1');
    expect(byPath.filter((p) => ['/cluster/resources', '/storage', '/nodes', '/access/permissions'].includes(p))).toHaveLength(4);
    expect(server.requests.find((r) => r.url.startsWith('/cluster/resources'))!.url).toBe('/cluster/resources?type=vm');
    expect(byPath.some((p) => p.includes('pve3'))).toBe(false);
  });

  it('reads storage types and per-node QEMU, naming Sys.Audit where it fell back to machine types', async () => {
    server = await fakeCluster();
    const { env, errors } = await collectFleet(clientFor(server));
    expect([...env.storages.values()]).toEqual([
      { id: 'local-lvm', type: 'lvmthin', props: { content: 'images,rootdir', thinpool: 'data', vgname: 'pve' } },
      { id: 'rbd-krbd', type: 'rbd', props: { content: 'images', krbd: '1', pool: 'vm' } },
    ]);
    expect(env.installedQemuByNode).toEqual({ pve1: [9, 2, 0], pve2: [10, 0, 0] });
    expect(env.installedQemuAssumed).toBe(false);
    expect(errors.filter((e) => e.source === 'api:/nodes/{node}/apt/versions')).toEqual([
      {
        source: 'api:/nodes/{node}/apt/versions',
        severity: 'warning',
        message:
          '/nodes/{node}/apt/versions needs Sys.Audit on /nodes/{node}: installed QEMU taken from the newest machine type ' +
          'instead (pve2: 10.0); its patch level is unknown, which does not change machine versions',
      },
    ]);
  });

  it('reports what it could not read as issues naming the privilege or the reason, never guessing', async () => {
    server = await fakeCluster();
    const { inputs, errors } = await collectFleet(clientFor(server));
    expect(errors.filter((e) => e.severity === 'error').map((e) => [e.source, e.message])).toEqual([
      ['api:/nodes/pve2/qemu/102', 'VM 102 not audited: GET /nodes/pve2/qemu/102/pending failed: needs VM.Audit on /vms/102'],
      ['api:/nodes/pve3/qemu/103', 'VM 103 not audited: node pve3 is offline'],
    ]);
    // One warning per storage, not per disk (a token without Datastore.Audit on a big fleet).
    expect(inputs.find((i) => i.vmid === 101)!.issues).toEqual([]);
    expect(errors.filter((e) => e.source === 'api:/storage/ceph')).toEqual([
      {
        source: 'api:/storage/ceph',
        severity: 'warning',
        message:
          "storage 'ceph': not in /storage: the PVE user or API token in use lacks Datastore.Audit on /storage/ceph; " +
          'its type is unknown, so the aio mode and O_DIRECT of the 1 disk on it (VM 101 scsi0) are reported as unknown',
      },
    ]);
  });

  it('tells a storage the token may not see from one that does not exist', async () => {
    server = await fakeCluster();
    const limited = await collectFleet(clientFor(server));
    expect(limited.env.unreadableStorages).toEqual({ ceph: 'not in /storage: the PVE user or API token in use lacks Datastore.Audit on /storage/ceph' });
    await server.close();
    // Datastore.Audit on /storage (propagated): an unlisted storage really is missing from storage.cfg.
    server = await fakeCluster(VMS, { '/': { 'VM.Audit': 1 }, '/storage': { 'Datastore.Audit': 1 } });
    const full = await collectFleet(clientFor(server));
    expect(full.env.unreadableStorages).toBeUndefined();
    expect(full.inputs.find((i) => i.vmid === 101)!.issues).toEqual([]);
    await server.close();
    // Permissions unreadable: unknown, said so.
    server = await fakeCluster(VMS, null);
    const unknown = await collectFleet(clientFor(server));
    expect(unknown.env.unreadableStorages!['ceph']).toMatch(/^not in \/storage, and the permissions of the PVE user or API token in use could not be read \(Method/);
    await server.close();
    // /storage itself failed: no storage's type is known, even with Datastore.Audit - none is "missing".
    server = await fakeCluster(VMS, { '/': { 'VM.Audit': 1, 'Datastore.Audit': 1 } }, { storageFails: true });
    const failed = await collectFleet(clientFor(server));
    expect(Object.keys(failed.env.unreadableStorages ?? {}).sort()).toEqual(['ceph', 'local-lvm']);
    expect(failed.env.unreadableStorages!['local-lvm']).toMatch(/^storage list not readable \(.*storage config locked/);
  });

  it('filters by node and by vmid, and names vmids it cannot see', async () => {
    server = await fakeCluster();
    const client = clientFor(server);
    const one = await collectFleet(client, { node: 'pve2', vmids: [101, 100, 555] });
    expect(one.inputs.map((i) => i.vmid)).toEqual([101]);
    expect(one.errors.filter((e) => e.severity === 'error').map((e) => e.message)).toEqual([
      'VM 100 not found on node pve2: it does not exist, is a container, or the PVE user or API token in use lacks VM.Audit on /vms/100',
      'VM 555 not found on node pve2: it does not exist, is a container, or the PVE user or API token in use lacks VM.Audit on /vms/555',
    ]);
    await expect(collectFleet(client, { node: 'pve9' })).rejects.toThrow(
      '--node pve9: no such node in this cluster (nodes: pve1, pve2, pve3)',
    );
  });

  it('reports progress once per VM request and stops on abort', async () => {
    server = await fakeCluster();
    const seen: FleetProgress[] = [];
    await collectFleet(clientFor(server, 1), { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.done)).toEqual([1, 2, 3]);
    expect(seen.every((p) => p.total === 3)).toBe(true);
    const ac = new AbortController();
    ac.abort();
    await expect(collectFleet(clientFor(server), { signal: ac.signal })).rejects.toMatchObject({ kind: 'aborted' });
  });

  it("analyses a node's VMs while another node's slow qemu?full=1 list is still on the wire", async () => {
    let release: () => void = () => {};
    // Released when VM 100 (pve1) is handed, or after 10 s so a regression fails instead of hanging.
    const until = new Promise<void>((r) => {
      release = r;
      setTimeout(r, 10_000).unref();
    });
    let pve2Held = true;
    void until.then(() => (pve2Held = false));
    server = await fakeCluster(VMS, TOKEN_PERMS, { holdQemuList: { node: 'pve2', until } });
    const handed: { vmid: number; whileHeld: boolean }[] = [];
    const { inputs } = await collectFleet(clientFor(server), {
      onInput: (input) => {
        handed.push({ vmid: input.vmid, whileHeld: pve2Held });
        if (input.node === 'pve1') release();
      },
    });
    expect(handed).toEqual([
      { vmid: 100, whileHeld: true },
      { vmid: 101, whileHeld: false },
    ]);
    // pve2's VM still got its runtime from its own node's list.
    expect(inputs.find((i) => i.vmid === 101)?.runtime?.name).toBe('vm101');
  });

  it('scales: 200 VMs at concurrency 8 take about 200/8 round trips', async () => {
    const many: FakeVm[] = Array.from({ length: 200 }, (_, i) => ({
      vmid: 1000 + i,
      node: i % 2 ? 'pve1' : 'pve2',
      status: 'stopped',
      pending: [{ key: 'digest', value: 'f'.repeat(40) }, { key: 'scsi0', value: `local-lvm:vm-${1000 + i}-disk-0` }],
    }));
    server = await fakeCluster(many, TOKEN_PERMS, { holdPending: 8 });
    const { inputs } = await collectFleet(clientFor(server, 8));
    expect(inputs).toHaveLength(200);
    expect(server.maxInFlight).toBe(8);
    expect(server.requests.filter((r) => r.url.endsWith('/pending'))).toHaveLength(200);
  });
});

describe('vmInputFromPending', () => {
  it('maps value/pending/delete and warns when there is no digest', () => {
    const input = vmInputFromPending({ vmid: 7, node: 'n', status: 'stopped' }, [
      { key: 'scsi1', pending: 'local:7/vm-7-disk-1.qcow2' },
      { key: 'sata0', value: 'local:7/vm-7-disk-0.qcow2', delete: 2 },
    ]);
    expect(input).toMatchObject({
      current: { sata0: 'local:7/vm-7-disk-0.qcow2' },
      pending: { scsi1: 'local:7/vm-7-disk-1.qcow2' },
      deletes: [{ key: 'sata0', force: true }],
      digest: '',
    });
    expect(input.issues.map((i) => i.message)).toEqual(['/pending returned no digest; a later write cannot be digest-guarded']);
  });
});

describe('fetchNodeQemuVersion', () => {
  async function node(apt: (reply: import('fastify').FastifyReply) => unknown): Promise<PveClient> {
    server = await startFakePve((req, reply) => {
      if (req.url.endsWith('/apt/versions')) return apt(reply);
      return ok(reply, [
        { id: 'pc-q35-9.2+pve1', type: 'q35', version: '9.2+pve1' },
        { id: 'pc-i440fx-10.1', type: 'i440fx', version: '10.1' },
      ]);
    });
    return new PveClient({ baseUrl: server.url, auth: { kind: 'token', token: 'audit@pve!ro=x' }, retries: 0 });
  }

  it('reads the installed pve-qemu-kvm from apt/versions', async () => {
    const { fetchNodeQemuVersion } = await import('../../../src/audit/node-qemu.js');
    const c = await node((r) => ok(r, [{ Package: 'pve-qemu-kvm', Version: '10.1.2-4', OldVersion: '10.1.2-4', CurrentState: 'Installed' }]));
    expect(await fetchNodeQemuVersion(c, 'pve1')).toEqual({ version: [10, 1, 2], source: 'apt', text: '10.1.2-4' });
  });

  it.each([
    ['a 500', (r: import('fastify').FastifyReply) => fail(r, 500, 'apt cache broken'), '/nodes/pve1/apt/versions failed (apt cache broken (500))'],
    ['no package', (r: import('fastify').FastifyReply) => ok(r, [{ Package: 'proxmox-ve', Version: '9.1.0' }]), '/nodes/pve1/apt/versions lists no pve-qemu-kvm package'],
    [
      'a removed package',
      (r: import('fastify').FastifyReply) => ok(r, [{ Package: 'pve-qemu-kvm', Version: '10.1.2-4', CurrentState: 'ConfigFiles' }]),
      '/nodes/pve1/apt/versions reports pve-qemu-kvm as ConfigFiles',
    ],
  ])('falls back to the newest machine type after %s, and says why', async (_l, apt, reason) => {
    const { fetchNodeQemuVersion } = await import('../../../src/audit/node-qemu.js');
    const c = await node(apt);
    expect(await fetchNodeQemuVersion(c, 'pve1')).toEqual({
      version: [10, 1, 0],
      source: 'machines',
      text: 'pc-i440fx-10.1',
      fallbackReason: reason,
    });
  });
});
