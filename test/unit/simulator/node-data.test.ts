// SPDX-License-Identifier: AGPL-3.0-or-later
/** Node-level data the risk analysis reads: syslog qmp timeouts, rrddata rates, CPU info, QEMU version. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { getData } from './helpers/http.js';

const CFG = (vmid: number) => `cores: 4\nmemory: 4096\nname: io${vmid}\nscsi0: local-lvm:vm-${vmid}-disk-0,size=32G\n`;

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    fleet: fleetFromConfigs(
      [
        { vmid: 101, text: CFG(101), node: 'pve1', status: 'running', ioStress: true },
        { vmid: 102, text: CFG(102), node: 'pve1', status: 'running' },
        { vmid: 103, text: CFG(103), node: 'pve1', status: 'stopped' },
      ],
      { nodes: ['pve1'] },
    ),
    http: true,
    authDelayMs: 0,
    timeScale: 0,
  });
});
afterAll(async () => {
  await sim?.close();
});

describe('syslog', () => {
  it('has pvestatd qmp timeouts for the VM under IO stress only, with a total', async () => {
    const page = await getData(sim, '/nodes/pve1/syslog?limit=500');
    const lines = (page as Array<{ n: number; t: string }>).map((l) => l.t);
    expect(lines.some((t) => /pve1 pvestatd\[\d+\]: VM 101 qmp command 'query-proxmox-support' failed - got timeout$/.test(t))).toBe(true);
    expect(lines.some((t) => t.includes('VM 102 qmp'))).toBe(false);
    expect(page[0].n).toBe(1);
  });

  it('gets new timeout lines as simulated time passes, and filters by `since`', async () => {
    const before = (await getData(sim, '/nodes/pve1/syslog?limit=5000')).length;
    sim.state.clock.advance(10 * 60 * 1000);
    const after = (await getData(sim, '/nodes/pve1/syslog?limit=5000')).length;
    expect(after).toBeGreaterThanOrEqual(before + 4);
    const since = new Date(sim.state.clock.nowMs() - 5 * 60 * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const recent = await getData(sim, `/nodes/pve1/syslog?limit=5000&since=${encodeURIComponent(since)}`);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(after);
  });
});

describe('rrddata', () => {
  it('running VMs report diskread/diskwrite in bytes/s; the stressed one writes > 100 MB/s', async () => {
    const stressed: Array<Record<string, number>> = await getData(sim, '/nodes/pve1/qemu/101/rrddata?timeframe=hour&cf=AVERAGE');
    const calm: Array<Record<string, number>> = await getData(sim, '/nodes/pve1/qemu/102/rrddata?timeframe=hour&cf=AVERAGE');
    const last = (pts: Array<Record<string, number>>) => pts[pts.length - 1]!;
    expect(last(stressed).diskwrite).toBeGreaterThan(100e6);
    expect(last(calm).diskwrite).toBeLessThan(20e6);
    expect(typeof last(calm).diskread).toBe('number');
    expect(stressed.length).toBe(70);
  });

  it('stopped VMs have points without rates', async () => {
    const pts: Array<Record<string, number>> = await getData(sim, '/nodes/pve1/qemu/103/rrddata?timeframe=hour');
    expect(Object.keys(pts[0]!).sort()).toEqual(['disk', 'maxcpu', 'maxdisk', 'maxmem', 'time']);
  });
});

describe('node facts', () => {
  it('status has cpuinfo with physical cores of all sockets', async () => {
    const st = await getData(sim, '/nodes/pve1/status');
    const n = sim.state.nodes[0]!;
    expect(st.cpuinfo).toMatchObject({ cores: n.cores * n.sockets, sockets: n.sockets, cpus: n.cpus });
    expect(st.pveversion).toMatch(/^pve-manager\/9\.1\.\d+\/[0-9a-f]{16}$/);
  });

  it('the installed QEMU shows in apt/versions and as the newest machine version', async () => {
    const pkgs: Array<{ Package: string; Version: string }> = await getData(sim, '/nodes/pve1/apt/versions');
    expect(pkgs.find((p) => p.Package === 'pve-qemu-kvm')!.Version).toMatch(new RegExp(`^${sim.state.qemuVersion.replace(/\./g, '\\.')}-\\d+$`));
    const machines: Array<{ id: string; version: string }> = await getData(sim, '/nodes/pve1/capabilities/qemu/machines');
    expect(machines[0]!.version).toBe(sim.state.qemuMachineVersion());
    expect(machines.some((m) => m.id === 'pc-q35-4.1+pve2')).toBe(true);
  });

  it('/cluster/backup lists the jobs (fleecing on some)', async () => {
    const gen = await startSimulator({ vms: 5, http: true, authDelayMs: 0, timeScale: 0 });
    try {
      const jobs: Array<Record<string, unknown>> = await getData(gen, '/cluster/backup');
      expect(jobs.some((j) => j.fleecing === 'enabled=1,storage=local-lvm' && j.enabled === 1)).toBe(true);
    } finally {
      await gen.close();
    }
  });
});

describe('VM list of a node', () => {
  it('?full=1 adds running-machine and running-qemu for running VMs only', async () => {
    const list: Array<Record<string, unknown>> = await getData(sim, '/nodes/pve1/qemu?full=1');
    const byId = new Map(list.map((e) => [e.vmid, e]));
    expect(byId.get(101)).toMatchObject({ status: 'running', 'running-qemu': sim.state.qemuVersion, 'running-machine': `pc-i440fx-${sim.state.qemuMachineVersion()}+pve0`, qmpstatus: 'running' });
    expect(typeof byId.get(101)!.pid).toBe('number');
    expect(byId.get(103)).toMatchObject({ status: 'stopped', qmpstatus: 'stopped' });
    expect(byId.get(103)).not.toHaveProperty('running-machine');
    expect(byId.get(103)).not.toHaveProperty('template');
    const plain: Array<Record<string, unknown>> = await getData(sim, '/nodes/pve1/qemu');
    expect(plain.find((e) => e.vmid === 101)).not.toHaveProperty('running-machine');
  });
});
