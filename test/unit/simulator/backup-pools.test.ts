// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What backup-risk evidence reads, over real sockets: `/nodes/{n}/vzdump/defaults` (vzdump.conf
 * over the schema defaults, fleecing as a property string, the keys hidden without Sys.Audit),
 * pools (`/pools`, `?poolid=`, the deprecated `/pools/{poolid}`, `pool` in /cluster/resources and
 * on jobs), snapshots (`snapshot/{snap}/config` vs `config?snapshot=`), and the risk collector
 * resolving a pool job and an unset fleecing against them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { PveClient } from '../../../src/api/client.js';
import { collectRiskEvidence } from '../../../src/audit/evidence.js';
import { call, getData } from './helpers/http.js';

const VM = (vmid: number, extra = '') => `cores: 2\nmemory: 2048\nname: vm${vmid}\nscsi0: local-lvm:vm-${vmid}-disk-0,size=8G\nscsihw: virtio-scsi-single\n${extra}`;
const SNAPPED = `${VM(102, 'parent: before-upgrade\n')}
[before-upgrade]
#taken before the upgrade
cores: 2
memory: 2048
name: vm102
scsi0: local-lvm:vm-102-disk-0,iothread=on,size=8G
scsihw: virtio-scsi-single
snaptime: 1729285344
vmstate: nas-nfs:102/vm-102-state-before-upgrade.raw
`;

let sim: RunningSimulator;

beforeAll(async () => {
  const fleet = fleetFromConfigs(
    [
      { vmid: 100, text: VM(100), node: 'pve1', status: 'running', pool: 'web' },
      { vmid: 101, text: VM(101), node: 'pve2', status: 'running', pool: 'db' },
      { vmid: 102, text: SNAPPED, node: 'pve2', status: 'running' },
    ],
    { nodes: ['pve1', 'pve2'], pools: [{ poolid: 'web', comment: 'Web tier', storages: ['local-lvm', 'pbs'] }] },
  );
  fleet.nodes[0]!.vzdumpConf = '# vzdump default settings\nfleecing: enabled=1,storage=local-lvm\nmailto: ops@example.com\nbwlimit: 51200\n';
  fleet.backupJobs = [
    { id: 'backup-web', schedule: '02:00', storage: 'pbs', mode: 'snapshot', enabled: true, pool: 'web' },
    { id: 'backup-rest', schedule: '03:00', storage: 'pbs', mode: 'snapshot', enabled: true, all: true, exclude: '100' },
  ];
  sim = await startSimulator({ fleet, http: true, authDelayMs: 0, timeScale: 0 });
});
afterAll(async () => {
  await sim?.close();
});

describe('GET /nodes/{node}/vzdump/defaults', () => {
  it('without vzdump.conf: the schema defaults, storage local with its dump dir, fleecing `0`, performance defaults', async () => {
    const d = await getData(sim, '/nodes/pve2/vzdump/defaults');
    expect(d).toEqual({
      all: 0, bwlimit: 0, compress: '0', ionice: 7, lockwait: 180, mailnotification: 'always', mode: 'snapshot', 'notification-mode': 'auto',
      pigz: 0, 'prune-backups': 'keep-all=1', quiet: 0, remove: 1, stdexcludes: 1, stop: 0, stopwait: 10, zstd: 1,
      fleecing: '0', performance: 'max-workers=16,pbs-entries-max=1048576', storage: 'local', dumpdir: '/var/lib/vz/dump',
    });
  });

  it("the node's vzdump.conf wins; a caller without Sys.Audit on the node does not get mailto, dumpdir, ionice", async () => {
    const admin = await getData(sim, '/nodes/pve1/vzdump/defaults');
    expect(admin).toMatchObject({ fleecing: '1,storage=local-lvm', mailto: 'ops@example.com', bwlimit: 51200, dumpdir: '/var/lib/vz/dump' });
    const audit = await getData(sim, '/nodes/pve1/vzdump/defaults', sim.auditToken);
    expect(audit.fleecing).toBe('1,storage=local-lvm');
    for (const k of ['mailto', 'dumpdir', 'ionice']) expect(audit).not.toHaveProperty(k);
  });

  it('needs Datastore.Audit or .AllocateSpace on the backup storage; `storage` picks another one', async () => {
    const a = await call(sim, 'GET', '/nodes/pve1/vzdump/defaults', { token: sim.noDatastoreToken });
    expect([a.status, a.reason]).toEqual([403, 'Permission check failed (/storage/local, Datastore.Audit|Datastore.AllocateSpace)']);
    const pbs = await getData(sim, '/nodes/pve1/vzdump/defaults?storage=pbs');
    expect(pbs.storage).toBe('pbs');
    expect(pbs).not.toHaveProperty('dumpdir');
    const lvm = await call(sim, 'GET', '/nodes/pve1/vzdump/defaults?storage=local-lvm');
    expect([lvm.status, lvm.reason]).toEqual([500, "can't use storage 'local-lvm' for backups - wrong content type"]);
  });
});

describe('pools', () => {
  it('GET /pools lists the pools the caller may audit; ?poolid= adds the members', async () => {
    expect(await getData(sim, '/pools')).toEqual([{ poolid: 'db' }, { poolid: 'web', comment: 'Web tier' }]);
    const [web] = await getData(sim, '/pools?poolid=web');
    expect(web.poolid).toBe('web');
    expect(web.comment).toBe('Web tier');
    expect(web.members.map((m: { id: string }) => m.id)).toEqual(['qemu/100', 'storage/pve1/local-lvm', 'storage/pve1/pbs']);
    expect(web.members[0]).toMatchObject({ type: 'qemu', vmid: 100, node: 'pve1', pool: 'web', status: 'running' });
    const vmsOnly = (await getData(sim, '/pools?poolid=web&type=qemu'))[0].members;
    expect(vmsOnly).toHaveLength(1);
  });

  it('the deprecated GET /pools/{poolid}; refusals', async () => {
    const web = await getData(sim, '/pools/web');
    expect(Object.keys(web).sort()).toEqual(['comment', 'members']);
    const missing = await call(sim, 'GET', '/pools?poolid=nope');
    expect([missing.status, missing.reason]).toEqual([500, "pool 'nope' does not exist"]);
    expect(await getData(sim, '/pools', sim.auditToken)).toEqual([]);
    const denied = await call(sim, 'GET', '/pools/web', { token: sim.auditToken });
    expect([denied.status, denied.reason]).toEqual([403, 'Permission check failed (/pool/web, Pool.Audit)']);
    const noId = await call(sim, 'GET', '/pools?type=qemu');
    expect(noId.body.errors).toEqual({ poolid: "missing property - 'type' requires this property" });
  });

  it('/cluster/resources has `pool` for pool members; /cluster/backup shows pool and exclude', async () => {
    const res: Array<Record<string, unknown>> = await getData(sim, '/cluster/resources?type=vm');
    expect(res.find((r) => r.vmid === 100)!.pool).toBe('web');
    expect(res.find((r) => r.vmid === 102)).not.toHaveProperty('pool');
    const jobs: Array<Record<string, unknown>> = await getData(sim, '/cluster/backup');
    expect(jobs.find((j) => j.id === 'backup-web')!.pool).toBe('web');
    expect(jobs.find((j) => j.id === 'backup-rest')!.exclude).toBe('100');
  });
});

describe('snapshots', () => {
  it('snapshot/{snap}/config is the section as parsed (no digest, drives as written); config?snapshot= adds the digest', async () => {
    const list: Array<Record<string, unknown>> = await getData(sim, '/nodes/pve2/qemu/102/snapshot');
    expect(list.map((s) => s.name)).toEqual(['before-upgrade', 'current']);
    expect(list[0]).toMatchObject({ vmstate: 1, snaptime: 1729285344, description: 'taken before the upgrade' });
    const section = await getData(sim, '/nodes/pve2/qemu/102/snapshot/before-upgrade/config');
    expect(section).toEqual({
      description: 'taken before the upgrade', cores: 2, memory: '2048', name: 'vm102', scsi0: 'local-lvm:vm-102-disk-0,iothread=on,size=8G',
      scsihw: 'virtio-scsi-single', snaptime: 1729285344, vmstate: 'nas-nfs:102/vm-102-state-before-upgrade.raw',
    });
    const viaConfig = await getData(sim, '/nodes/pve2/qemu/102/config?snapshot=before-upgrade');
    expect(viaConfig.digest).toMatch(/^[0-9a-f]{40}$/);
    expect(viaConfig.scsi0).toBe('local-lvm:vm-102-disk-0,iothread=1,size=8G');
    expect(await getData(sim, '/nodes/pve2/qemu/102/snapshot/before-upgrade')).toEqual([{ cmd: 'rollback' }, { cmd: 'config' }]);
  });

  it('a missing snapshot is a 500; VM.Snapshot alone reads the section but not config?snapshot=', async () => {
    const a = await call(sim, 'GET', '/nodes/pve2/qemu/102/snapshot/nope/config');
    expect([a.status, a.reason]).toEqual([500, "snapshot 'nope' does not exist"]);
    const snapOnly = sim.state.addToken('snap@pve!tok', [{ path: '/vms', privs: ['VM.Snapshot'], propagate: true }]);
    expect((await call(sim, 'GET', '/nodes/pve2/qemu/102/snapshot/before-upgrade/config', { token: snapOnly })).status).toBe(200);
    expect((await call(sim, 'GET', '/nodes/pve2/qemu/102/config?snapshot=before-upgrade', { token: snapOnly })).status).toBe(403);
  });
});

describe('the risk evidence collector against these endpoints', () => {
  it('resolves the pool job from /cluster/resources and an unset fleecing from the node default', async () => {
    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token } });
    const ev = await collectRiskEvidence(client, { vms: [100, 101, 102].map((vmid) => ({ vmid, node: vmid === 100 ? 'pve1' : 'pve2' })) });
    const jobs = (vmid: number) => ev.get(vmid)!.backupJobs as Array<{ id: string; selection: string; nodeDefaultFleecing?: unknown }>;
    expect(jobs(100)).toEqual([expect.objectContaining({ id: 'backup-web', selection: 'pool web', nodeDefaultFleecing: true })]);
    expect(jobs(101)).toEqual([expect.objectContaining({ id: 'backup-rest', selection: 'all', nodeDefaultFleecing: false })]);
    const snaps = ev.get(102)!.ramSnapshots as Array<{ name: string; storage: string }>;
    expect(snaps).toEqual([expect.objectContaining({ name: 'before-upgrade', storage: 'nas-nfs' })]);
  });
});
