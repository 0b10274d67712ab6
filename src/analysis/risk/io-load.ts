// SPDX-License-Identifier: AGPL-3.0-or-later
/** Disk IO rates of a VM from `rrddata` (the MAIN_LOOP_IO_LOAD rule is in main-loop.ts). */
import type { IoRates } from './types.js';

/**
 * Summarises rrddata points. `diskread`/`diskwrite` are DERIVE rates in bytes/s (PVE-FACTS §4.2);
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
