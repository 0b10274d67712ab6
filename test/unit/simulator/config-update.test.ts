// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Config semantics over real sockets: digest = SHA-1 of the file, PUT sync vs POST async, digest
 * and lock refusals, schema validation, permissions, running VMs keeping non-hot-pluggable disk
 * changes and scsihw in [PENDING] (docs/how-qemu-server-decides.md#api), /pending listing every key.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { call, getData } from './helpers/http.js';

const VM = (vmid: number, extra = '') => `agent: 1
boot: order=scsi0;ide2;net0
cores: 2
ide2: none,media=cdrom
memory: 2048
name: vm${vmid}
net0: virtio=BC:24:11:30:AD:${vmid % 100},bridge=vmbr0
ostype: l26
sata0: local-lvm:vm-${vmid}-disk-2,size=8G
scsi0: local-lvm:vm-${vmid}-disk-0,iothread=1,size=32G
scsi1: ceph-vm:vm-${vmid}-disk-1,size=16G
scsihw: virtio-scsi-pci
${extra}`;

const FILES = [
  { vmid: 100, text: VM(100), status: 'running' as const },
  { vmid: 101, text: VM(101), status: 'stopped' as const },
  { vmid: 102, text: VM(102, 'lock: backup\n'), status: 'running' as const },
];

let sim: RunningSimulator;
let sim82: RunningSimulator;

beforeAll(async () => {
  [sim, sim82] = await Promise.all([
    startSimulator({ fleet: fleetFromConfigs(FILES, { nodes: ['pve1'] }), http: true, authDelayMs: 0, timeScale: 0 }),
    startSimulator({ fleet: fleetFromConfigs(FILES, { nodes: ['pve1'] }), http: true, authDelayMs: 0, timeScale: 0, pveVersion: '8.2' }),
  ]);
});
afterAll(async () => {
  await Promise.all([sim?.close(), sim82?.close()]);
});
beforeEach(() => {
  // Every test starts from the original files.
  for (const f of FILES) {
    for (const s of [sim, sim82]) {
      const vm = s.state.mustVm(f.vmid);
      vm.text = f.text;
    }
  }
  sim.state.onBeforeWrite = undefined;
});

const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');
const text = (vmid: number) => sim.state.mustVm(vmid).text;

describe('digest', () => {
  it('is the SHA-1 of the config file and changes with every write', async () => {
    const before = await getData(sim, '/nodes/pve1/qemu/101/config');
    expect(before.digest).toBe(sha1(text(101)));
    await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { name: 'renamed' } });
    const after = await getData(sim, '/nodes/pve1/qemu/101/config');
    expect(after.digest).toBe(sha1(text(101)));
    expect(after.digest).not.toBe(before.digest);
    expect(after.name).toBe('renamed');
  });

  it('a stale digest is refused with 500 before anything is written (new spelling and message on 9.1)', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/101/config', { form: { name: 'x', digest: '0'.repeat(40) } });
    expect(a.status).toBe(500);
    expect(a.reason).toBe('checksum mismatch (file change by other user?)');
    expect(a.body).toEqual({ data: null, message: 'checksum mismatch (file change by other user?)\n' });
    expect(text(101)).toBe(FILES[1]!.text);
  });

  it('PVE 8.2 spells it `missmatch` and has no body message', async () => {
    const a = await call(sim82, 'PUT', '/nodes/pve1/qemu/101/config', { form: { name: 'x', digest: '0'.repeat(40) } });
    expect(a.status).toBe(500);
    expect(a.reason).toBe('checksum missmatch (file change by other user?)');
    expect(a.body).toEqual({ data: null });
  });

  it('an edit by someone else after the first check fails the task, not the POST', async () => {
    const { digest } = await getData(sim, '/nodes/pve1/qemu/101/config');
    sim.state.onBeforeWrite = (vmid) => sim.state.editConfig(vmid, (t) => t.replace('cores: 2', 'cores: 4'));
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/101/config', { form: { scsihw: 'virtio-scsi-single', digest } });
    expect(a.status).toBe(200);
    await sim.state.settle();
    const status = await getData(sim, `/nodes/pve1/tasks/${a.body.data}/status`);
    expect(status.exitstatus).toBe('checksum mismatch (file change by other user?)');
    const cfg = await getData(sim, '/nodes/pve1/qemu/101/config');
    expect(cfg.cores).toBe(4);
    expect(cfg.scsihw).toBe('virtio-scsi-pci');
  });
});

describe('PUT is synchronous, POST returns a UPID', () => {
  it('PUT answers null after the change is written', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { scsihw: 'virtio-scsi-single' } });
    expect(a.body).toEqual({ data: null });
    expect(text(101)).toContain('scsihw: virtio-scsi-single');
  });

  it('POST answers a qmconfig UPID whose task logs the parameters and ends OK', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/101/config', { form: { scsihw: 'virtio-scsi-single', cipassword: 'secret' } });
    expect(a.body.data).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmconfig:101:root@pam!sim:$/);
    await sim.state.settle();
    const log = await call(sim, 'GET', `/nodes/pve1/tasks/${a.body.data}/log`);
    expect(log.body.data.map((l: { t: string }) => l.t)).toEqual(['update VM 101: -cipassword <hidden> -scsihw virtio-scsi-single', 'TASK OK']);
  });

  it('POST with background_delay answers null when the task finished in time', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/101/config', { form: { name: 'bg', background_delay: 5 } });
    expect(a.body).toEqual({ data: null });
    expect(text(101)).toContain('name: bg');
  });

  it('an empty update is `no options specified`', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: {} });
    expect([a.status, a.reason]).toEqual([500, 'no options specified']);
  });
});

describe('a stopped VM applies changes at once; a running VM keeps some pending', () => {
  const migration = {
    scsihw: 'virtio-scsi-single',
    scsi0: 'local-lvm:vm-NNN-disk-0,aio=threads,iothread=1,size=32G',
    scsi1: 'ceph-vm:vm-NNN-disk-1,mbps_rd=100,size=16G',
    sata0: 'local-lvm:vm-NNN-disk-2,detect_zeroes=1,size=8G',
  };
  const forVm = (vmid: number) => Object.fromEntries(Object.entries(migration).map(([k, v]) => [k, v.replace('NNN', String(vmid))]));

  it('stopped: everything lands in the main section', async () => {
    await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: forVm(101) });
    expect(text(101)).not.toContain('[PENDING]');
    const cur = await getData(sim, '/nodes/pve1/qemu/101/config?current=1');
    expect(cur.scsihw).toBe('virtio-scsi-single');
    expect(cur.scsi0).toBe('local-lvm:vm-101-disk-0,aio=threads,iothread=1,size=32G');
  });

  it('running: scsihw and aio/iothread changes wait in [PENDING]; throttles and other options commit', async () => {
    const { digest } = await getData(sim, '/nodes/pve1/qemu/100/config');
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/100/config', { form: { ...forVm(100), digest } });
    expect(a.status).toBe(200);
    await sim.state.settle();
    const current = await getData(sim, '/nodes/pve1/qemu/100/config?current=1');
    expect(current.scsihw).toBe('virtio-scsi-pci');
    expect(current.scsi0).toBe('local-lvm:vm-100-disk-0,iothread=1,size=32G');
    // Throttle: applied live. detect_zeroes: committed although QEMU only sees it after a restart.
    expect(current.scsi1).toBe('ceph-vm:vm-100-disk-1,mbps_rd=100,size=16G');
    expect(current.sata0).toBe('local-lvm:vm-100-disk-2,detect_zeroes=1,size=8G');
    const next = await getData(sim, '/nodes/pve1/qemu/100/config');
    expect(next.scsihw).toBe('virtio-scsi-single');
    expect(next.scsi0).toBe('local-lvm:vm-100-disk-0,aio=threads,iothread=1,size=32G');
    expect(text(100)).toMatch(/\[PENDING\]\nscsi0: local-lvm:vm-100-disk-0,aio=threads,iothread=1,size=32G\nscsihw: virtio-scsi-single\n$/);
  });

  it('/pending lists every key with value, pending value and the digest', async () => {
    await call(sim, 'PUT', '/nodes/pve1/qemu/100/config', { form: { scsihw: 'virtio-scsi-single', delete: 'ide2' } });
    const items: Array<Record<string, unknown>> = await getData(sim, '/nodes/pve1/qemu/100/pending');
    const byKey = new Map(items.map((i) => [i.key, i]));
    expect(byKey.get('scsihw')).toEqual({ key: 'scsihw', value: 'virtio-scsi-pci', pending: 'virtio-scsi-single' });
    expect(byKey.get('ide2')).toEqual({ key: 'ide2', value: 'none,media=cdrom', delete: 1 });
    expect(byKey.get('digest')).toEqual({ key: 'digest', value: sha1(text(100)) });
    expect(byKey.get('cores')).toEqual({ key: 'cores', value: 2 });
    expect([...byKey.keys()].sort()).toEqual(['agent', 'boot', 'cores', 'digest', 'ide2', 'memory', 'name', 'net0', 'ostype', 'sata0', 'scsi0', 'scsi1', 'scsihw']);
  });

  it('revert drops a pending change', async () => {
    await call(sim, 'PUT', '/nodes/pve1/qemu/100/config', { form: { scsihw: 'virtio-scsi-single' } });
    expect(text(100)).toContain('[PENDING]');
    await call(sim, 'PUT', '/nodes/pve1/qemu/100/config', { form: { revert: 'scsihw' } });
    expect(text(100)).not.toContain('[PENDING]');
  });

  it('GET config canonicalises drive strings (sorted sub-keys, 1/0 booleans); the file keeps them as written', async () => {
    sim.state.editConfig(101, (t) => t.replace('scsi0: local-lvm:vm-101-disk-0,iothread=1,size=32G', 'scsi0: local-lvm:vm-101-disk-0,size=32G,iothread=on,backup=no'));
    const cfg = await getData(sim, '/nodes/pve1/qemu/101/config');
    expect(cfg.scsi0).toBe('local-lvm:vm-101-disk-0,backup=0,iothread=1,size=32G');
    const pending: Array<{ key: string; value: unknown }> = await getData(sim, '/nodes/pve1/qemu/101/pending');
    expect(pending.find((p) => p.key === 'scsi0')!.value).toBe('local-lvm:vm-101-disk-0,size=32G,iothread=on,backup=no');
  });
});

describe('description (`#` lines, docs/how-qemu-server-decides.md#reading-the-config)', () => {
  it('PUT on a stopped VM writes it as # lines at the top (`:` and `%` escaped); GET decodes it', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { description: 'Owner: ops\nload 100%' } });
    expect(a.status).toBe(200);
    expect(text(101)).toBe(`#Owner%3A ops\n#load 100%25\n${FILES[1]!.text}`);
    const cfg = await getData(sim, '/nodes/pve1/qemu/101/config');
    expect(cfg.description).toBe('Owner: ops\nload 100%');
    expect(cfg.digest).toBe(sha1(text(101)));
  });

  it('POST on a running VM commits it at once (a fast-plug option), even next to a change that stays pending', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/100/config', { form: { description: 'migrated by pve-dataplane', background_delay: 5 } });
    expect([a.status, a.body.data]).toEqual([200, null]);
    expect(text(100)).toBe(`#migrated by pve-dataplane\n${FILES[0]!.text}`);
    await call(sim, 'PUT', '/nodes/pve1/qemu/100/config', { form: { description: 'second', scsihw: 'virtio-scsi-single' } });
    expect(text(100)).toMatch(/^#second\nagent: 1\n[\s\S]*\n\[PENDING\]\nscsihw: virtio-scsi-single\n$/);
    const current = await getData(sim, '/nodes/pve1/qemu/100/config?current=1');
    expect(current.description).toBe('second');
  });

  it('a repeated form key is a list, like PVE::Tools::split_list reads NUL-joined values', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { formRaw: 'delete=sata0&delete=name' });
    expect(a.status).toBe(200);
    expect(text(101)).not.toMatch(/^(sata0|name):/m);
    expect(text(101)).toMatch(/^unused0: local-lvm:vm-101-disk-2$/m);
  });

  it('delete=description removes the lines on a running VM too', async () => {
    await call(sim, 'PUT', '/nodes/pve1/qemu/100/config', { form: { description: 'x' } });
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/100/config', { form: { delete: 'description' } });
    expect(a.status).toBe(200);
    expect(text(100)).toBe(FILES[0]!.text);
  });

  it('up to 8 KiB is accepted, one more character is a 400; the operator token (VM.Config.Options) may set it', async () => {
    expect((await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { description: 'd'.repeat(8192) } })).status).toBe(200);
    const big = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { description: 'd'.repeat(8193) } });
    expect([big.status, big.body.errors]).toEqual([400, { description: 'value may only be 8192 characters long' }]);
    const op = await call(sim, 'POST', '/nodes/pve1/qemu/101/config', { token: sim.operatorToken, form: { description: 'by operator', background_delay: 5 } });
    expect(op.status).toBe(200);
    expect(text(101).startsWith('#by operator\n')).toBe(true);
  });
});

describe('volumes', () => {
  it('re-submitting an existing volume rewrites size= from the storage', async () => {
    await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { scsi0: 'local-lvm:vm-101-disk-0,iothread=1,size=1G' } });
    expect(text(101)).toContain('scsi0: local-lvm:vm-101-disk-0,iothread=1,size=32G');
  });

  it('a volume that does not exist is refused', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { scsi2: 'local-lvm:vm-101-disk-9,size=8G' } });
    expect([a.status, a.reason]).toEqual([500, 'volume local-lvm:vm-101-disk-9 does not exist']);
  });

  it('STORAGE:SIZE allocates a new volume', async () => {
    await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { scsi2: 'local-lvm:4,discard=on' } });
    expect(text(101)).toMatch(/scsi2: local-lvm:vm-101-disk-\d+,discard=on,size=4G/);
  });
});

describe('refusals', () => {
  it('a locked VM: 500 `VM is locked (backup)`', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/102/config', { form: { name: 'x' } });
    expect([a.status, a.reason]).toEqual([500, 'VM is locked (backup)']);
  });

  it('iothread on a SATA disk is a 400 with the per-parameter text', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/101/config', { form: { sata0: 'local-lvm:vm-101-disk-2,iothread=1,size=8G' } });
    expect(a.status).toBe(400);
    expect(a.reason).toBe('Parameter verification failed.');
    expect(a.body).toEqual({
      data: null,
      message: 'Parameter verification failed.\n',
      errors: { sata0: 'invalid format - invalid key in comma-separated list property: iothread\n' },
    });
  });

  it('schema errors: enum, unknown parameter, bad boolean, sub-key value', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', {
      form: { scsihw: 'virtio-scsi', foo: '1', onboot: 'maybe', scsi1: 'ceph-vm:vm-101-disk-1,cache=fast' },
    });
    expect(a.status).toBe(400);
    expect(a.body.errors).toEqual({
      scsihw: "value 'virtio-scsi' does not have a value in the enumeration 'lsi, lsi53c810, virtio-scsi-pci, virtio-scsi-single, megasas, pvscsi'",
      foo: 'property is not defined in schema and the schema does not allow additional properties',
      onboot: "type check ('boolean') failed - got 'maybe'",
      scsi1: "invalid format - format error\nscsi1.cache: value 'fast' does not have a value in the enumeration 'none, writethrough, writeback, unsafe, directsync'\n",
    });
  });

  it("a boolean parameter is 1 or 0 as in PVE's API: onboot=yes is refused (only the qm CLI and property strings take words)", async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { form: { onboot: 'yes' } });
    expect(a.status).toBe(400);
    expect(a.body.errors).toEqual({ onboot: "type check ('boolean') failed - got 'yes'" });
  });

  it('a read-only token gets 403 naming the privileges the endpoint accepts', async () => {
    const a = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { token: sim.auditToken, form: { name: 'x' } });
    expect(a.status).toBe(403);
    expect(a.reason).toBe('Permission check failed (/vms/101, VM.Config.Disk|VM.Config.CDROM|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.HWType|VM.Config.Options|VM.Config.Cloudinit)');
  });

  it('403 names the one missing privilege of a partial token', async () => {
    const hwOnly = sim.state.addToken('hw@pve!tok', [{ path: '/vms', privs: ['VM.Audit', 'VM.Config.HWType'], propagate: true }]);
    const disk = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { token: hwOnly, form: { scsi0: 'local-lvm:vm-101-disk-0,iothread=1' } });
    expect([disk.status, disk.reason]).toEqual([403, 'Permission check failed (/vms/101, VM.Config.Disk)']);
    const diskOnly = sim.state.addToken('disk@pve!tok', [{ path: '/vms/101', privs: ['VM.Config.Disk'], propagate: true }]);
    const hw = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { token: diskOnly, form: { scsihw: 'virtio-scsi-single' } });
    expect([hw.status, hw.reason]).toEqual([403, 'Permission check failed (/vms/101, VM.Config.HWType)']);
    const ok = await call(sim, 'PUT', '/nodes/pve1/qemu/101/config', { token: hwOnly, form: { scsihw: 'virtio-scsi-single' } });
    expect(ok.status).toBe(200);
  });

  it('an unknown VM is 500 `Configuration file ... does not exist`', async () => {
    const a = await call(sim, 'GET', '/nodes/pve1/qemu/999/config');
    expect([a.status, a.reason]).toEqual([500, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"]);
  });
});
