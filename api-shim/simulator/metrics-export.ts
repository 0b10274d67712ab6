// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `GET /cluster/metrics/export` (pve-manager ≥ 8.2.5, PVE/API2/Cluster/MetricServer.pm `export`,
 * metrics built by PVE/PullMetric.pm): the pvestatd cache of every online node, one generation per
 * 10 s update, 180 old generations kept (~30 min). Each metric is
 * `{id, metric, value, timestamp, type}`; a running VM (`qemu/<vmid>`) has gauges cpu_current and
 * mem_used and the derive counters disk_read, disk_write, net_in, net_out (bytes since its start),
 * every VM uptime, cpu_max, mem_total, disk_total. Sorted by timestamp.
 *
 * `history` without `start-time` returns all 181 generations; with it, int((now - start) / 10)
 * generations whose timestamp is > start-time; without `history` only the latest one.
 *
 * The disk counters integrate the same per-minute rates `rrddata` reports (metrics.ts `rates`), so
 * both give a VM the same IO rates.
 */
import { rates, vmFacts } from './metrics.js';
import { hashString } from './rng.js';
import type { SimState, SimVm } from './state.js';

/** pvestatd's update interval, s. */
const STEP = 10;
/** Metrics built between two turns of the event loop (a node's generation of 1,700 VMs is 17,000). */
const PAUSE_EVERY = 2000;
/** PVE::PullMetric OLD_GENERATIONS + 1. */
const MAX_GENERATIONS = 181;

export interface ExportParams {
  history: boolean;
  startTime?: number;
  /** Nodes to include (`node-list`); all when absent. `local-only` is the first node. */
  nodes?: readonly string[];
}

type Metric = { metric: string; id: string; value: number; timestamp: number; type: 'gauge' | 'derive' };

/** Per VM: bytes read/written from `anchor` to the start of each minute since (prefix sums). */
interface IoPrefix {
  startedAt: number;
  anchor: number;
  firstMinute: number;
  read: number[];
  write: number[];
}

const prefixes = new WeakMap<SimState, Map<number, IoPrefix>>();

type Rates = ReturnType<typeof rates>;
/** `rates` of one VM by minute, remembered (each costs a few seeded random draws). */
const rateMemo = new WeakMap<SimVm, Map<number, Rates>>();
function rateAt(state: SimState, vm: SimVm, minute: number): Rates {
  let m = rateMemo.get(vm);
  if (!m) rateMemo.set(vm, (m = new Map()));
  let r = m.get(minute);
  if (!r) {
    if (m.size > 240) m.clear();
    m.set(minute, (r = rates(state, vm, minute)));
  }
  return r;
}

/**
 * Bytes a running VM read and wrote since its start, at `t` (epoch s): the per-minute rates of
 * `rrddata` integrated from an anchor fixed at the first request (an hour before it, or the VM's
 * start if later), plus an estimate of what came before it. Monotone and consistent across requests.
 */
function ioCounter(state: SimState, vm: SimVm, t: number): { read: number; write: number } {
  let byVm = prefixes.get(state);
  if (!byVm) prefixes.set(state, (byVm = new Map()));
  let p = byVm.get(vm.vmid);
  if (!p || p.startedAt !== vm.startedAt) {
    // An hour before the first time asked for (a window is at most 30 min), fixed from then on.
    const anchor = Math.max(vm.startedAt!, Math.floor(t / 60) * 60 - 3600);
    const r = rateAt(state, vm, Math.floor(anchor / 60));
    // Before the anchor: the anchor's rate over the uptime so far (an estimate; only differences matter).
    const before = anchor - vm.startedAt!;
    p = { startedAt: vm.startedAt!, anchor, firstMinute: Math.floor(anchor / 60), read: [before * r.read], write: [before * r.write] };
    byVm.set(vm.vmid, p);
  }
  const minute = Math.floor(t / 60);
  // prefix[i] = bytes up to max(anchor, (firstMinute + i) * 60).
  for (let i = p.read.length; i <= minute - p.firstMinute; i++) {
    const m = p.firstMinute + i - 1;
    const from = Math.max(p.anchor, m * 60);
    const r = rateAt(state, vm, m);
    const span = (m + 1) * 60 - from;
    p.read.push(p.read[i - 1]! + r.read * span);
    p.write.push(p.write[i - 1]! + r.write * span);
  }
  const i = Math.max(0, minute - p.firstMinute);
  const from = Math.max(p.anchor, minute * 60);
  const r = rateAt(state, vm, minute);
  const part = Math.max(0, t - from);
  return { read: p.read[i]! + r.read * part, write: p.write[i]! + r.write * part };
}

/**
 * The metrics of the generations asked for, sorted by timestamp (for one timestamp: each node's own
 * metrics, then its VMs', in the order PVE's stable sort leaves them). Built PAUSE_EVERY metrics at
 * a time with a turn of the event loop in between (`pause`), so that 5,000 VMs' worth of metrics
 * do not hold up the simulator's other answers (see answer-text.ts).
 */
export async function metricsExport(state: SimState, params: ExportParams, pause: () => Promise<void> = async () => {}): Promise<Metric[]> {
  const now = state.clock.nowSec();
  let generations = 1;
  if (params.history) generations = params.startTime !== undefined ? Math.floor((now - params.startTime) / STEP) : MAX_GENERATIONS;
  generations = Math.max(1, Math.min(MAX_GENERATIONS, generations));
  const nodes = state.nodes.filter((n) => !params.nodes || params.nodes.includes(n.name));
  // Every (timestamp, node) of the answer, by timestamp then node order.
  const slots: Array<{ t: number; node: (typeof nodes)[number]; index: number }> = [];
  nodes.forEach((node, index) => {
    // Each node's pvestatd runs its own loop: its samples are offset from the others'.
    const phase = hashString(`pvestatd:${node.name}`) % STEP;
    const latest = Math.floor((now - phase) / STEP) * STEP + phase;
    for (let g = generations - 1; g >= 0; g--) {
      const t = latest - g * STEP;
      if (params.startTime === undefined || t > params.startTime) slots.push({ t, node, index });
    }
  });
  slots.sort((a, b) => a.t - b.t || a.index - b.index);
  const vmsOf = new Map(nodes.map((n) => [n.name, [...state.vms.values()].filter((vm) => vm.node === n.name)]));
  const facts = new Map<number, ReturnType<typeof vmFacts>>();
  const out: Metric[] = [];
  let paused = 0;
  for (const { t, node } of slots) {
    const nodeId = `node/${node.name}`;
    out.push(
      { metric: 'uptime', id: nodeId, value: t - state.bootTime, timestamp: t, type: 'gauge' },
      { metric: 'cpu_max', id: nodeId, value: node.cpus, timestamp: t, type: 'gauge' },
      { metric: 'mem_total', id: nodeId, value: node.memBytes, timestamp: t, type: 'gauge' },
    );
    for (const vm of vmsOf.get(node.name)!) {
      let f = facts.get(vm.vmid);
      if (!f) facts.set(vm.vmid, (f = vmFacts(vm, state.config(vm))));
      const id = `qemu/${vm.vmid}`;
      const running = vm.status === 'running' && vm.startedAt !== undefined;
      const up = running && t >= vm.startedAt!;
      if (up) {
        const io = ioCounter(state, vm, t);
        const r = rateAt(state, vm, Math.floor((t - 1) / 60));
        out.push(
          { metric: 'cpu_current', id, value: r.cpu, timestamp: t, type: 'gauge' },
          { metric: 'mem_used', id, value: Math.round(f.maxmem * 0.5), timestamp: t, type: 'gauge' },
          { metric: 'disk_read', id, value: Math.round(io.read), timestamp: t, type: 'derive' },
          { metric: 'disk_write', id, value: Math.round(io.write), timestamp: t, type: 'derive' },
          { metric: 'net_in', id, value: Math.round((t - vm.startedAt!) * r.netin), timestamp: t, type: 'derive' },
          { metric: 'net_out', id, value: Math.round((t - vm.startedAt!) * r.netout), timestamp: t, type: 'derive' },
        );
      }
      out.push(
        { metric: 'uptime', id, value: up ? t - vm.startedAt! : 0, timestamp: t, type: 'gauge' },
        { metric: 'cpu_max', id, value: f.cpus, timestamp: t, type: 'gauge' },
        { metric: 'mem_total', id, value: f.maxmem, timestamp: t, type: 'gauge' },
        { metric: 'disk_total', id, value: f.maxdisk, timestamp: t, type: 'gauge' },
      );
      if (out.length - paused >= PAUSE_EVERY) {
        paused = out.length;
        await pause();
      }
    }
  }
  return out;
}
