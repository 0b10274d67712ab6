// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Live numbers of VMs and nodes: status fields, list entries and RRD series. Values are
 * deterministic functions of (seed, vmid, time), so repeated reads agree and tests can rely on
 * the shape. VMs under IO stress write hundreds of MB/s and use a lot of CPU (iowait).
 */
import { agentEnabled, BOOT_FORMAT, configValues, getPart, isTrue, isValidDriveName, parseDrive, parseSize, propertyValue, type VmConfigFile } from '../../src/pve/index.js';
import { runningMachine } from './machine.js';
import { createRng, hashString } from './rng.js';
import type { SimState, SimVm } from './state.js';
import type { FleetNode } from './types.js';

const MIB = 1024 ** 2;

/** Numbers derived from a VM's config. */
export interface VmFacts {
  name: string;
  cpus: number;
  maxmem: number;
  maxdisk: number;
  template: boolean;
  lock?: string;
  tags?: string;
  agent: boolean;
  values: Record<string, string>;
}

/** Config-derived facts (main section = what runs now). */
export function vmFacts(vm: SimVm, file: VmConfigFile): VmFacts {
  // The parsed file is replaced when the config changes (SimState.config), so it keys the facts:
  // a list of 5,000 VMs does not parse 5,000 boot disks again on every request.
  const known = factsOf.get(file);
  if (known && known.vmid === vm.vmid) return known.facts;
  const facts = computeFacts(vm, file);
  factsOf.set(file, { vmid: vm.vmid, facts });
  return facts;
}

const factsOf = new WeakMap<VmConfigFile, { vmid: number; facts: VmFacts }>();

function computeFacts(vm: SimVm, file: VmConfigFile): VmFacts {
  const v = configValues(file.main);
  const sockets = Number(v.sockets ?? 1) || 1;
  const cores = Number(v.cores ?? 1) || 1;
  const vcpus = Number(v.vcpus ?? 0);
  const mem = Number(/^(?:current=)?(\d+)/.exec(v.memory ?? '')?.[1] ?? 512);
  return {
    name: v.name ?? `VM ${vm.vmid}`,
    cpus: vcpus > 0 ? vcpus : sockets * cores,
    maxmem: mem * MIB,
    maxdisk: bootDiskSize(v, vm.vmid),
    template: isTrue(v.template),
    ...(v.lock ? { lock: v.lock } : {}),
    ...(v.tags ? { tags: v.tags } : {}),
    agent: agentEnabled(v.agent),
    values: v,
  };
}

/** Size of the boot disk (PVE's `maxdisk`), bytes; 0 without one. */
function bootDiskSize(v: Record<string, string>, vmid: number): number {
  const order = propertyValue(v.boot ?? '', BOOT_FORMAT, 'order')?.split(';') ?? [];
  const candidates = [...order, ...Object.keys(v).filter(isValidDriveName).sort()];
  for (const key of candidates) {
    const val = v[key];
    if (!val || !isValidDriveName(key)) continue;
    const d = parseDrive(key, val, { vmid });
    if (d.isCdrom) continue;
    const size = getPart(d.options, 'size');
    const bytes = size ? parseSize(size) : null;
    if (bytes !== null) return Number(bytes);
  }
  return 0;
}

const seeds = new WeakMap<SimState, number>();
/** The seed of every metric of `state` (drawn once: it is the same on every call). */
function metricsSeed(state: SimState): number {
  let seed = seeds.get(state);
  if (seed === undefined) seeds.set(state, (seed = state.rng.fork('metrics').int(0, 2 ** 31)));
  return seed;
}

/** A value in [lo, hi) fixed for (seed, key, bucket). */
function noise(seed: number, key: string, bucket: number, lo: number, hi: number): number {
  const r = createRng((seed ^ hashString(`${key}:${bucket}`)) >>> 0);
  return lo + r.next() * (hi - lo);
}

/** Live counters of a running VM (all 0 for a stopped one). */
export interface VmLive {
  uptime: number;
  cpu: number;
  mem: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
}

/** Rates in bytes/s the VM currently does (diskwrite is the one that matters for IO stress). */
export function rates(state: SimState, vm: SimVm, minute: number): { read: number; write: number; netin: number; netout: number; cpu: number } {
  const seed = metricsSeed(state);
  const k = `vm${vm.vmid}`;
  if (vm.ioStress) {
    return {
      read: noise(seed, `${k}r`, minute, 60e6, 250e6),
      write: noise(seed, `${k}w`, minute, 180e6, 480e6),
      netin: noise(seed, `${k}ni`, minute, 1e5, 2e6),
      netout: noise(seed, `${k}no`, minute, 1e5, 2e6),
      cpu: noise(seed, `${k}c`, minute, 0.55, 0.97),
    };
  }
  return {
    read: noise(seed, `${k}r`, minute, 2e4, 4e6),
    write: noise(seed, `${k}w`, minute, 5e4, 8e6),
    netin: noise(seed, `${k}ni`, minute, 1e3, 5e5),
    netout: noise(seed, `${k}no`, minute, 1e3, 5e5),
    cpu: noise(seed, `${k}c`, minute, 0.003, 0.25),
  };
}

export function vmLive(state: SimState, vm: SimVm, facts: VmFacts): VmLive {
  if (vm.status !== 'running' || vm.startedAt === undefined) return { uptime: 0, cpu: 0, mem: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 };
  const now = state.clock.nowSec();
  const uptime = Math.max(0, now - vm.startedAt);
  const r = rates(state, vm, Math.floor(now / 60));
  const seed = metricsSeed(state);
  return {
    uptime,
    cpu: r.cpu,
    mem: Math.round(facts.maxmem * noise(seed, `mem${vm.vmid}`, 0, 0.25, 0.85)),
    netin: Math.round(uptime * r.netin * 0.3),
    netout: Math.round(uptime * r.netout * 0.3),
    diskread: Math.round(uptime * r.read * 0.2),
    diskwrite: Math.round(uptime * r.write * 0.2),
  };
}

/** `running-machine` and `running-qemu` of a running VM. */
export function runtimeOf(state: SimState, vm: SimVm, facts: VmFacts): { machine: string; qemu: string } {
  const qemu = vm.runningQemu ?? state.qemuVersion;
  return { machine: vm.runningMachine ?? runningMachine(facts.values, qemu), qemu };
}

/** Version compare on dotted numbers (`9.0.2` >= `8.1`). */
function atLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

function blockstat(vm: SimVm, facts: VmFacts, live: VmLive, qemu: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const drives = Object.keys(facts.values).filter(isValidDriveName);
  drives.forEach((key, i) => {
    const share = i === 0 ? 0.8 : 0.2 / Math.max(1, drives.length - 1);
    const rd = Math.round(live.diskread * share);
    const wr = Math.round(live.diskwrite * share);
    out[key] = {
      rd_bytes: rd, wr_bytes: wr, rd_operations: Math.round(rd / 16384), wr_operations: Math.round(wr / 32768),
      flush_operations: Math.round(wr / 1e6), rd_total_time_ns: Math.round(rd / 50), wr_total_time_ns: Math.round(wr / 20),
      flush_total_time_ns: Math.round(wr / 300), unmap_operations: 0, unmap_bytes: 0, unmap_total_time_ns: 0,
      rd_merged: 0, wr_merged: 0, unmap_merged: 0, wr_highest_offset: Math.round(wr / 3), idle_time_ns: 2_000_000 + (vm.vmid % 1000),
      failed_rd_operations: 0, failed_wr_operations: 0, failed_flush_operations: 0, failed_unmap_operations: 0,
      invalid_rd_operations: 0, invalid_wr_operations: 0, invalid_flush_operations: 0, invalid_unmap_operations: 0,
      // QEMU-originated objects keep JSON booleans (NOTES item 5).
      account_failed: true, account_invalid: true, timed_stats: [],
      // Zoned-storage counters exist since QEMU 8.1.
      ...(atLeast(qemu, '8.1')
        ? { zone_append_operations: 0, zone_append_bytes: 0, zone_append_total_time_ns: 0, zone_append_merged: 0, failed_zone_append_operations: 0, invalid_zone_append_operations: 0 }
        : {}),
    };
  });
  return out;
}

/** The `ha` object of status/current. */
export function haView(vm: SimVm): Record<string, unknown> {
  if (!vm.ha) return { managed: 0 };
  return { managed: 1, state: vm.ha.state, ...(vm.ha.group ? { group: vm.ha.group } : {}) };
}

/** `GET /nodes/{n}/qemu/{id}/status/current`. */
export function statusCurrent(state: SimState, vm: SimVm, file: VmConfigFile): Record<string, unknown> {
  const f = vmFacts(vm, file);
  const live = vmLive(state, vm, f);
  const running = vm.status === 'running';
  const out: Record<string, unknown> = {
    vmid: vm.vmid, name: f.name, status: vm.status, qmpstatus: vm.status, cpus: f.cpus, maxmem: f.maxmem,
    maxdisk: f.maxdisk, disk: 0, ...live, ha: haView(vm),
  };
  if (f.template) out.template = 1;
  if (f.lock) out.lock = f.lock;
  if (f.tags) out.tags = f.tags;
  if (f.agent) out.agent = 1;
  if (f.values.serial0) out.serial = 1;
  if (/^qxl/.test(f.values.vga ?? '')) out.spice = 1;
  if (state.pveVersion === '9.1') {
    out.memhost = live.mem;
    out.clipboard = null;
  }
  if (running) {
    const rt = runtimeOf(state, vm, f);
    out.pid = vm.pid;
    out['running-machine'] = rt.machine;
    out['running-qemu'] = rt.qemu;
    out.balloon = f.maxmem;
    // A balloon target in the config adds its minimum and the shares (qemu-server vmstatus).
    const balloon = Number(f.values.balloon ?? 0);
    if (balloon > 0) {
      out.balloon_min = balloon * MIB;
      out.shares = Number(f.values.shares ?? 1000);
    }
    out.freemem = Math.max(0, f.maxmem - live.mem);
    out.ballooninfo = {
      actual: f.maxmem, max_mem: f.maxmem, total_mem: f.maxmem - 64 * MIB, free_mem: Math.max(0, f.maxmem - live.mem),
      mem_swapped_in: 0, mem_swapped_out: 0, major_page_faults: 600 + (vm.vmid % 100), minor_page_faults: 1_000_000 + vm.vmid,
      last_update: state.clock.nowSec() - 2,
    };
    out.blockstat = blockstat(vm, f, live, rt.qemu);
    out.nics = { [`tap${vm.vmid}i0`]: { netin: live.netin, netout: live.netout } };
    out['proxmox-support'] = {
      'pbs-dirty-bitmap': true, 'pbs-dirty-bitmap-migration': true, 'pbs-dirty-bitmap-savevm': true, 'pbs-masterkey': true,
      'query-bitmap-info': true, 'backup-max-workers': true,
      // Backup fleecing came with pve-qemu-kvm 8.1.5 (PVE 8.2).
      ...(atLeast(rt.qemu, '8.1.5') ? { 'backup-fleecing': true } : {}),
      'pbs-library-version': '1.5.2 (UNKNOWN)',
    };
  }
  return out;
}

/** One entry of `GET /nodes/{n}/qemu[?full=1]`. */
export function vmListEntry(state: SimState, vm: SimVm, file: VmConfigFile, full: boolean): Record<string, unknown> {
  const f = vmFacts(vm, file);
  const live = vmLive(state, vm, f);
  const out: Record<string, unknown> = {
    vmid: vm.vmid, name: f.name, status: vm.status, cpus: f.cpus, maxmem: f.maxmem, maxdisk: f.maxdisk, disk: 0, ...live,
  };
  if (f.template) out.template = 1;
  if (f.lock) out.lock = f.lock;
  if (f.tags) out.tags = f.tags;
  if (f.values.serial0) out.serial = 1;
  if (state.pveVersion === '9.1') out.memhost = live.mem;
  if (vm.status === 'running') out.pid = vm.pid;
  if (full) {
    out.qmpstatus = vm.status;
    if (vm.status === 'running') {
      const rt = runtimeOf(state, vm, f);
      out['running-machine'] = rt.machine;
      out['running-qemu'] = rt.qemu;
      out.balloon = f.maxmem;
      out.blockstat = blockstat(vm, f, live, rt.qemu);
      out.nics = { [`tap${vm.vmid}i0`]: { netin: live.netin, netout: live.netout } };
    }
  }
  return out;
}

/** A qemu entry of `GET /cluster/resources` (template always present as 0/1). */
export function resourceEntry(state: SimState, vm: SimVm, file: VmConfigFile): Record<string, unknown> {
  const f = vmFacts(vm, file);
  const live = vmLive(state, vm, f);
  const out: Record<string, unknown> = {
    id: `qemu/${vm.vmid}`, type: 'qemu', vmid: vm.vmid, node: vm.node, name: f.name, status: vm.status,
    template: f.template ? 1 : 0, maxcpu: f.cpus, maxmem: f.maxmem, maxdisk: f.maxdisk, disk: 0, ...live,
  };
  delete out.pid;
  if (state.pveVersion === '9.1') out.memhost = live.mem;
  if (f.tags) out.tags = f.tags;
  if (f.lock) out.lock = f.lock;
  if (vm.ha) out.hastate = vm.ha.state;
  if (vm.pool) out.pool = vm.pool;
  return out;
}

/** RRD step and row count per timeframe (PVE 9 layout, docs/how-qemu-server-decides.md#api). */
const TIMEFRAMES: Record<string, { step: number; rows: number }> = {
  hour: { step: 60, rows: 70 },
  day: { step: 60, rows: 1440 },
  week: { step: 1800, rows: 336 },
  month: { step: 1800, rows: 1440 },
  year: { step: 21600, rows: 1460 },
};

/** `GET /nodes/{n}/qemu/{id}/rrddata`: rates (bytes/s) for running periods, maxima only while stopped. */
export function vmRrd(state: SimState, vm: SimVm, file: VmConfigFile, timeframe: string): Array<Record<string, number>> {
  const tf = TIMEFRAMES[timeframe] ?? TIMEFRAMES.hour!;
  const f = vmFacts(vm, file);
  const now = state.clock.nowSec();
  const last = Math.floor(now / tf.step) * tf.step;
  const seed = state.rng.fork('rrd').int(0, 2 ** 31);
  const out: Array<Record<string, number>> = [];
  for (let i = tf.rows - 1; i >= 0; i--) {
    const time = last - i * tf.step;
    const point: Record<string, number> = { time, maxcpu: f.cpus, maxmem: f.maxmem, disk: 0, maxdisk: f.maxdisk };
    if (vm.status === 'running' && vm.startedAt !== undefined && time >= vm.startedAt) {
      const r = rates(state, vm, Math.floor(time / 60));
      point.cpu = r.cpu;
      point.mem = f.maxmem * noise(seed, `m${vm.vmid}`, Math.floor(time / 600), 0.25, 0.85);
      point.netin = r.netin;
      point.netout = r.netout;
      point.diskread = r.read;
      point.diskwrite = r.write;
      if (state.pveVersion === '9.1') {
        point.memhost = point.mem;
        const io = vm.ioStress ? noise(seed, `p${vm.vmid}`, time, 0.3, 0.9) : noise(seed, `p${vm.vmid}`, time, 0, 0.02);
        point.pressurecpusome = r.cpu * 0.1;
        point.pressurecpufull = 0;
        point.pressureiosome = io;
        point.pressureiofull = io * 0.8;
        point.pressurememorysome = 0;
        point.pressurememoryfull = 0;
      }
    }
    out.push(point);
  }
  return out;
}

/** `GET /nodes/{n}/rrddata`. */
export function nodeRrd(state: SimState, node: FleetNode, timeframe: string): Array<Record<string, number>> {
  const tf = TIMEFRAMES[timeframe] ?? TIMEFRAMES.hour!;
  const now = state.clock.nowSec();
  const last = Math.floor(now / tf.step) * tf.step;
  const seed = state.rng.fork(`noderrd:${node.name}`).int(0, 2 ** 31);
  const out: Array<Record<string, number>> = [];
  for (let i = tf.rows - 1; i >= 0; i--) {
    const time = last - i * tf.step;
    const cpu = noise(seed, 'cpu', time, 0.02, 0.4);
    const point: Record<string, number> = {
      time, cpu, maxcpu: node.cpus, iowait: noise(seed, 'io', time, 0, 0.05), loadavg: cpu * node.cpus,
      memtotal: node.memBytes, memused: node.memBytes * noise(seed, 'mem', Math.floor(time / 600), 0.3, 0.7),
      swaptotal: 8 * 1024 ** 3, swapused: 0, roottotal: 100 * 1024 ** 3, rootused: 12 * 1024 ** 3,
      netin: noise(seed, 'ni', time, 1e4, 5e6), netout: noise(seed, 'no', time, 1e4, 5e6),
    };
    if (state.pveVersion === '9.1') {
      point.memavailable = point.memtotal! - point.memused!;
      point.arcsize = 0;
      point.pressurecpusome = cpu * 0.05;
      point.pressureiosome = point.iowait! * 2;
      point.pressurememorysome = 0;
    }
    out.push(point);
  }
  return out;
}
