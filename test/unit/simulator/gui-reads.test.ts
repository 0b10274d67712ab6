// SPDX-License-Identifier: AGPL-3.0-or-later
/** What the web UI's Datacenter, Node and VM views read, filled from the simulated cluster. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { call, getData } from './helpers/http.js';

let sim: RunningSimulator;
const vm = (disk: string) => `name: v\nscsihw: virtio-scsi-single\nscsi0: ${disk},size=8G\n`;

beforeAll(async () => {
  sim = await startSimulator({
    fleet: fleetFromConfigs([
      { vmid: 100, text: vm('local-lvm:vm-100-disk-0'), node: 'pve1', status: 'running' },
      { vmid: 101, text: vm('vmdata:101/vm-101-disk-0.raw'), node: 'pve1' },
      { vmid: 102, text: vm('ceph-vm:vm-102-disk-0'), node: 'pve2' },
    ]),
    http: true, authDelayMs: 0, timeScale: 0,
  });
});
afterAll(async () => {
  await sim?.close();
});

describe('tasks', () => {
  it('/cluster/tasks lists every task the simulator ran, reboots included, newest first', async () => {
    await call(sim, 'POST', '/nodes/pve1/qemu/100/status/reboot');
    await sim.state.settle();
    const tasks = await getData(sim, '/cluster/tasks');
    expect(tasks.map((t: { type: string }) => t.type)).toEqual(['qmstart', 'qmreboot']);
    // A token's task is listed under its user, with the token id beside it (Cluster.pm tasks).
    expect(tasks[1]).toMatchObject({ node: 'pve1', id: '100', user: 'root@pam', tokenid: 'sim', status: 'OK' });
    const log = await call(sim, 'GET', `/nodes/pve1/tasks/${encodeURIComponent(tasks[1].upid)}/log`);
    expect(log.body.data.at(-1).t).toBe('TASK OK');
    // Without Sys.Audit on / only the caller's own tasks.
    expect(await getData(sim, '/cluster/tasks', sim.auditToken)).toEqual([]);
    const clusterLog = await getData(sim, '/cluster/log');
    expect(clusterLog.map((e: { msg: string }) => e.msg)).toContain(`starting task ${tasks[1].upid}`);
  });
});

describe('access', () => {
  it('the login window gets the realms without a ticket', async () => {
    const a = await call(sim, 'GET', '/access/domains', { token: null, format: 'extjs' });
    expect(a.body.success).toBe(1);
    expect(a.body.data.map((r: { realm: string }) => r.realm).sort()).toEqual(['pam', 'pve']);
  });

  it('users, tokens, roles and ACL come from the simulator users and tokens', async () => {
    const users = await getData(sim, '/access/users?full=1');
    expect(users.find((u: { userid: string }) => u.userid === 'root@pam').tokens).toEqual([{ tokenid: 'sim', privsep: 0, expire: 0 }]);
    // A user without User.Modify/Sys.Audit sees only itself.
    expect((await getData(sim, '/access/users', sim.auditToken)).map((u: { userid: string }) => u.userid)).toEqual(['audit@pve']);
    const acl = await getData(sim, '/access/acl');
    const audit = acl.find((e: { ugid: string }) => e.ugid === 'audit@pve');
    const roles = await getData(sim, '/access/roles');
    const role = roles.find((r: { roleid: string }) => r.roleid === audit.roleid);
    expect(role).toMatchObject({ privs: 'Datastore.Audit,VM.Audit', special: 0 });
    expect(roles.find((r: { roleid: string }) => r.roleid === 'PVEAuditor').privs).toContain('Sys.Audit');
    expect(acl).toContainEqual({ path: '/vms', type: 'token', ugid: 'operator@pve!convert', roleid: expect.any(String), propagate: 1 });
    const tokens = await call(sim, 'GET', '/access/users/operator@pve/token', { token: sim.auditToken });
    expect(tokens.body.message).toBe('Permission check failed (/access/groups, User.Modify)\n');
  });
});

describe('nodes and storage', () => {
  it('status carries the kernel build date the node summary shows', async () => {
    const s = await getData(sim, '/nodes/pve1/status');
    expect(s['current-kernel'].version).toMatch(/^#1 SMP PREEMPT_DYNAMIC PMX 6\.17\.2-1 \(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z\)$/);
    expect(s.kversion).toBe(`Linux 6.17.2-1-pve ${s['current-kernel'].version}`);
  });

  it('storage?format=1 adds formats (and the deprecated format pair); without it they are absent', async () => {
    const list = await getData(sim, '/nodes/pve1/storage?format=1');
    const local = list.find((s: { storage: string }) => s.storage === 'local');
    expect(local.formats).toEqual({ supported: ['qcow2', 'raw', 'subvol', 'vmdk'], default: 'raw' });
    expect(local.format).toEqual([{ qcow2: 1, raw: 1, subvol: 1, vmdk: 1 }, 'raw']);
    expect(list.find((s: { storage: string }) => s.storage === 'local-lvm').formats).toEqual({ supported: ['raw'], default: 'raw' });
    expect(list.some((s: { select_existing?: number }) => 'select_existing' in s)).toBe(false);
    expect((await getData(sim, '/nodes/pve1/storage'))[0].formats).toBeUndefined();
  });

  it('storage content lists the volumes of the VMs on that node', async () => {
    const content = await getData(sim, '/nodes/pve1/storage/local-lvm/content');
    expect(content).toEqual([{ volid: 'local-lvm:vm-100-disk-0', content: 'images', format: 'raw', size: 8 * 1024 ** 3, used: 8 * 1024 ** 3, vmid: 100 }]);
    expect(await getData(sim, '/nodes/pve2/storage/local-lvm/content')).toEqual([]);
    expect(await getData(sim, '/nodes/pve1/storage/vmdata/content?vmid=101')).toMatchObject([{ volid: 'vmdata:101/vm-101-disk-0.raw', format: 'raw' }]);
  });

  it('subscription: no key, server id only with Sys.Audit', async () => {
    expect(await getData(sim, '/nodes/pve1/subscription')).toMatchObject({ status: 'notfound', message: 'There is no subscription key', serverid: expect.stringMatching(/^[0-9A-F]{32}$/) });
    expect((await getData(sim, '/nodes/pve1/subscription', sim.auditToken)).serverid).toBeUndefined();
  });

  it('Ceph status says "not installed" the way PVE does (500, an error the GUI hides on the summary)', async () => {
    const a = await call(sim, 'GET', '/nodes/pve1/ceph/status', { format: 'extjs' });
    expect(a.body).toEqual({ data: null, success: 0, status: 500, message: 'binary not installed: /usr/bin/ceph-mon\n' });
  });
});

describe('VM feature checks', () => {
  it('snapshot: thin LVM yes, raw on a directory no; nodes are those sharing every disk storage', async () => {
    expect(await getData(sim, '/nodes/pve1/qemu/100/feature?feature=snapshot')).toEqual({ hasFeature: 1, nodes: [] });
    expect((await getData(sim, '/nodes/pve1/qemu/101/feature?feature=snapshot')).hasFeature).toBe(0);
    expect(await getData(sim, '/nodes/pve2/qemu/102/feature?feature=snapshot')).toEqual({ hasFeature: 1, nodes: ['pve1', 'pve2', 'pve3'] });
    expect((await call(sim, 'GET', '/nodes/pve1/qemu/100/feature')).body.errors).toEqual({ feature: 'property is missing and it is not optional' });
  });
});
