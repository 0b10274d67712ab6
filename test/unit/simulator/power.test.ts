// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Power semantics (docs/how-qemu-server-decides.md#pending): start/stop apply [PENDING]; the API reboot is a qmreboot task
 * plus a SEPARATE start task that applies it; a guest reboot does not; a guest that ignores ACPI
 * makes reboot fail with PVE's text; start warns about iothread on a shared controller; HA-managed
 * VMs go through hastart and the HA stack.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { call, getData } from './helpers/http.js';

const VM = (vmid: number, extra = '') => `boot: order=scsi0
cores: 2
memory: 2048
name: vm${vmid}
ostype: l26
scsi0: local-lvm:vm-${vmid}-disk-0,iothread=1,size=32G
scsi1: local-lvm:vm-${vmid}-disk-1,iothread=1,size=8G
scsihw: virtio-scsi-pci
${extra}`;

const PENDING = `
[PENDING]
scsi0: local-lvm:vm-NNN-disk-0,aio=threads,iothread=1,size=32G
scsi1: local-lvm:vm-NNN-disk-1,aio=threads,iothread=1,size=8G
scsihw: virtio-scsi-single
`;
const withPending = (vmid: number, extra = '') => VM(vmid, extra) + PENDING.replaceAll('NNN', String(vmid));

const FILES = [
  { vmid: 100, text: withPending(100), status: 'running' as const },
  { vmid: 101, text: VM(101), status: 'stopped' as const },
  { vmid: 102, text: withPending(102), status: 'running' as const, guest: { ignoresAcpi: true } },
  { vmid: 103, text: withPending(103, 'agent: 1\n'), status: 'running' as const, guest: { ignoresAcpi: true, agentRunning: true } },
  { vmid: 104, text: VM(104), status: 'stopped' as const, ha: { state: 'stopped' as const } },
  { vmid: 105, text: VM(105).replace('iothread=1,size=8G', 'aio=native,cache=writeback,size=8G'), status: 'stopped' as const },
  { vmid: 106, text: withPending(106, 'reboot: 0\n'), status: 'running' as const },
  { vmid: 107, text: withPending(107, 'agent: fstrim_cloned_disks=1,enabled=on\n'), status: 'running' as const, guest: { ignoresAcpi: true, agentRunning: true } },
  { vmid: 108, text: VM(108, 'template: yes\n'), status: 'stopped' as const },
];

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ fleet: fleetFromConfigs(FILES, { nodes: ['pve1'] }), http: true, authDelayMs: 0, timeScale: 0 });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  await sim.state.settle();
});

const post = async (vmid: number, action: string, form: Record<string, string | number> = {}) => {
  const a = await call(sim, 'POST', `/nodes/pve1/qemu/${vmid}/status/${action}`, { form });
  expect(a.status, `${action} ${vmid}: ${a.reason}`).toBe(200);
  return a.body.data as string;
};
const taskOf = (upid: string) => getData(sim, `/nodes/pve1/tasks/${upid}/status`);
const logOf = async (upid: string) => ((await getData(sim, `/nodes/pve1/tasks/${upid}/log`)) as Array<{ t: string }>).map((l) => l.t);
const hasPending = (vmid: number) => sim.state.mustVm(vmid).text.includes('[PENDING]');

describe('reboot', () => {
  it('shuts down in a qmreboot task, then starts in a separate qmstart task that applies [PENDING]', async () => {
    const upid = await post(100, 'reboot');
    expect(upid).toContain(':qmreboot:100:');
    await sim.state.settle();
    expect((await taskOf(upid)).exitstatus).toBe('OK');
    const starts = sim.state.tasks.all().filter((t) => t.type === 'qmstart' && t.id === '100');
    expect(starts).toHaveLength(1);
    expect(starts[0]!.user).toBe('root@pam');
    expect(starts[0]!.upid).not.toBe(upid);
    expect(hasPending(100)).toBe(false);
    const status = await getData(sim, '/nodes/pve1/qemu/100/status/current');
    expect(status.status).toBe('running');
    expect(status['running-machine']).toBe(`pc-i440fx-${sim.state.qemuMachineVersion()}+pve0`);
    const cfg = await getData(sim, '/nodes/pve1/qemu/100/config?current=1');
    expect(cfg.scsihw).toBe('virtio-scsi-single');
    // iothread now works: the restart logs no warning.
    expect(starts[0]!.exitstatus).toBe('OK');
  });

  it('a guest that ignores ACPI makes it fail with `VM quit/powerdown failed - got timeout`; nothing is applied', async () => {
    const upid = await post(102, 'reboot');
    await sim.state.settle();
    expect((await taskOf(upid)).exitstatus).toBe('VM quit/powerdown failed - got timeout');
    expect(await logOf(upid)).toContain('TASK ERROR: VM quit/powerdown failed - got timeout');
    expect(sim.state.mustVm(102).status).toBe('running');
    expect(hasPending(102)).toBe(true);
  });

  it('with `agent: 1` and a running agent the shutdown works although the guest ignores ACPI', async () => {
    await post(103, 'reboot');
    await sim.state.settle();
    expect(hasPending(103)).toBe(false);
    expect(sim.state.mustVm(103).status).toBe('running');
  });

  it('an agent enabled as `fstrim_cloned_disks=1,enabled=on` is used like `agent: 1` (PVE reads the property string, any boolean word)', async () => {
    const upid = await post(107, 'reboot');
    await sim.state.settle();
    expect((await taskOf(upid)).exitstatus).toBe('OK');
    expect(hasPending(107)).toBe(false);
    expect(sim.state.mustVm(107).status).toBe('running');
  });

  it('status/current says agent 1 for `agent: fstrim_cloned_disks=1,enabled=on`, and nothing for a VM without `agent`', async () => {
    expect(((await getData(sim, '/nodes/pve1/qemu/107/status/current')) as { agent?: number }).agent).toBe(1);
    expect(((await getData(sim, '/nodes/pve1/qemu/100/status/current')) as { agent?: number }).agent).toBeUndefined();
  });

  it('a stopped VM cannot be rebooted', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/101/status/reboot');
    expect([a.status, a.reason]).toEqual([500, 'VM 101 not running']);
  });
});

describe('guest-initiated reboot', () => {
  it('does not apply [PENDING] and keeps the QEMU process', async () => {
    const vm = sim.state.mustVm(106);
    const pid = vm.pid;
    sim.state.editConfig(106, (t) => t.replace('reboot: 0\n', ''));
    sim.state.guestReboot(106);
    expect(vm.status).toBe('running');
    expect(vm.pid).toBe(pid);
    expect(hasPending(106)).toBe(true);
  });

  it('with `reboot: 0` the VM stops instead, still without applying', async () => {
    sim.state.editConfig(106, (t) => t.replace('scsihw: virtio-scsi-pci\n', 'reboot: 0\nscsihw: virtio-scsi-pci\n'));
    sim.state.guestReboot(106);
    expect(sim.state.mustVm(106).status).toBe('stopped');
    expect(hasPending(106)).toBe(true);
  });
});

describe('start and stop', () => {
  it('start of a VM with iothread on virtio-scsi-pci warns once per disk and ends `WARNINGS: 2`', async () => {
    const upid = await post(101, 'start');
    await sim.state.settle();
    expect((await taskOf(upid)).exitstatus).toBe('WARNINGS: 2');
    const log = await logOf(upid);
    expect(log.filter((l) => l === 'WARN: iothread is only valid with virtio disk or virtio-scsi-single controller, ignoring')).toHaveLength(2);
    expect(log.at(-1)).toBe('TASK WARNINGS: 2');
    await post(101, 'stop');
    await sim.state.settle();
  });

  it('start and stop each apply [PENDING]', async () => {
    sim.state.editConfig(101, (t) => t + PENDING.replaceAll('NNN', '101'));
    await post(101, 'start');
    await sim.state.settle();
    expect(hasPending(101)).toBe(false);
    sim.state.editConfig(101, (t) => `${t}\n[PENDING]\nmemory: 4096\n`);
    await post(101, 'stop');
    await sim.state.settle();
    expect(sim.state.mustVm(101).status).toBe('stopped');
    expect(hasPending(101)).toBe(false);
    expect(sim.state.mustVm(101).text).toContain('memory: 4096');
  });

  it('aio=native with cache=writeback: QEMU refuses to start', async () => {
    const upid = await post(105, 'start');
    await sim.state.settle();
    expect((await taskOf(upid)).exitstatus).toBe('start failed: QEMU exited with code 1');
    expect((await logOf(upid)).some((l) => l.includes('aio=native was specified, but it requires cache.direct=on'))).toBe(true);
    expect(sim.state.mustVm(105).status).toBe('stopped');
  });

  it('a template written `template: yes` (PVE reads any boolean word) cannot be started', async () => {
    const upid = await post(108, 'start');
    await sim.state.settle();
    expect((await taskOf(upid)).exitstatus).toContain("you can't start a vm if it's a template");
    expect(sim.state.mustVm(108).status).toBe('stopped');
  });

  it('start of a running VM is refused', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/100/status/start');
    expect([a.status, a.reason]).toEqual([500, 'VM 100 already running']);
  });
});

describe('HA-managed VMs', () => {
  it('start is an HA request (hastart); the HA stack then starts the VM in its own task', async () => {
    const upid = await post(104, 'start');
    expect(upid).toContain(':hastart:104:');
    const ha = await getData(sim, '/cluster/ha/resources');
    expect(ha).toEqual([expect.objectContaining({ sid: 'vm:104', type: 'vm', state: 'started' })]);
    await sim.state.settle();
    expect(sim.state.tasks.all().some((t) => t.type === 'qmstart' && t.id === '104' && t.user === 'root@pam' && t.exitstatus?.startsWith('WARNINGS'))).toBe(true);
    const status = await getData(sim, '/nodes/pve1/qemu/104/status/current');
    expect(status.status).toBe('running');
    expect(status.ha).toEqual({ managed: 1, state: 'started' });
    const res = await getData(sim, '/cluster/resources?type=vm');
    expect(res.find((r: { vmid: number }) => r.vmid === 104).hastate).toBe('started');
    expect(res.find((r: { vmid: number }) => r.vmid === 100).hastate).toBeUndefined();
  });

  it('stop is an HA request (hastop)', async () => {
    const upid = await post(104, 'stop');
    expect(upid).toContain(':hastop:104:');
    await sim.state.settle();
    expect(sim.state.mustVm(104).status).toBe('stopped');
    expect((await getData(sim, '/nodes/pve1/qemu/104/status/current')).ha).toEqual({ managed: 1, state: 'stopped' });
  });
});
