// SPDX-License-Identifier: AGPL-3.0-or-later
/** Disk IO rates of a VM from `rrddata` (the MAIN_LOOP_IO_LOAD rule is in main-loop.ts). */
import type { IoRates } from './types.js';

/**
 * Summarises rrddata points. `diskread`/`diskwrite` are DERIVE rates in bytes/s (docs/how-qemu-server-decides.md#api);
 * points without them (VM stopped at that time, or not yet written) are skipped.
 */
export function summariseRrd(points: readonly Record<string, unknown>[], timeframe: IoRates['timeframe']): IoRates {
  let samples = 0;
  let read = 0;
  let write = 0;
  let peak = 0;
  for (const p of points) {
    const r = p['diskread'];
    const w = p['diskwrite'];
    if (typeof r !== 'number' || typeof w !== 'number' || !Number.isFinite(r) || !Number.isFinite(w)) continue;
    samples += 1;
    read += r;
    write += w;
    peak = Math.max(peak, r + w);
  }
  const avg = (x: number): number => (samples === 0 ? 0 : x / samples);
  return {
    timeframe,
    avgBytesPerSec: avg(read + write),
    peakBytesPerSec: peak,
    avgReadBytesPerSec: avg(read),
    avgWriteBytesPerSec: avg(write),
    samples,
  };
}

/** A metric of `/cluster/metrics/export` as `summariseExport` reads it. */
export interface DeriveSample {
  id: string;
  metric: string;
  value: number;
  timestamp: number;
}

/**
 * IO rates of every VM in a `/cluster/metrics/export?history=1` answer: `disk_read`/`disk_write`
 * are derive counters (bytes since the guest started, pve-manager PVE/PullMetric.pm), one sample
 * per pvestatd update (10 s); the rate of an interval is the difference over the time between two
 * samples. A counter that went down (the VM restarted) starts over. Keyed by VMID; VMs with fewer
 * than two samples are left out (the caller reads their rrddata instead).
 */
export function summariseExport(metrics: readonly DeriveSample[], timeframe: IoRates['timeframe']): Map<number, IoRates> {
  // vmid -> timestamp -> [read, write]
  const series = new Map<number, Map<number, [number, number]>>();
  for (const m of metrics) {
    const isRead = m.metric === 'disk_read';
    if (!isRead && m.metric !== 'disk_write') continue;
    if (!m.id.startsWith('qemu/') || typeof m.value !== 'number' || typeof m.timestamp !== 'number') continue;
    const vmid = Number(m.id.slice(5));
    let byTime = series.get(vmid);
    if (!byTime) series.set(vmid, (byTime = new Map()));
    let pair = byTime.get(m.timestamp);
    if (!pair) byTime.set(m.timestamp, (pair = [NaN, NaN]));
    pair[isRead ? 0 : 1] = m.value;
  }
  const out = new Map<number, IoRates>();
  for (const [vmid, byTime] of series) {
    const times = [...byTime.keys()].sort((a, b) => a - b);
    let samples = 0;
    let read = 0;
    let write = 0;
    let span = 0;
    let peak = 0;
    for (let i = 1; i < times.length; i++) {
      const [r0, w0] = byTime.get(times[i - 1]!)!;
      const [r1, w1] = byTime.get(times[i]!)!;
      const dt = times[i]! - times[i - 1]!;
      const dr = r1 - r0;
      const dw = w1 - w0;
      if (!(dt > 0) || !(dr >= 0) || !(dw >= 0)) continue;
      samples += 1;
      read += dr;
      write += dw;
      span += dt;
      peak = Math.max(peak, (dr + dw) / dt);
    }
    if (samples === 0) continue;
    out.set(vmid, {
      timeframe,
      avgBytesPerSec: (read + write) / span,
      peakBytesPerSec: peak,
      avgReadBytesPerSec: read / span,
      avgWriteBytesPerSec: write / span,
      samples,
    });
  }
  return out;
}
