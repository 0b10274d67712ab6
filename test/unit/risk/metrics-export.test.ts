// SPDX-License-Identifier: AGPL-3.0-or-later
/** IO rates from `/cluster/metrics/export` derive counters (pve-manager PVE/PullMetric.pm). */
import { describe, expect, it } from 'vitest';
import { summariseExport } from '../../../src/analysis/risk/index.js';

const MIB = 1048576;
const m = (id: string, metric: string, timestamp: number, value: number) => ({ id, metric, timestamp, value, type: 'derive' as const });

describe('summariseExport', () => {
  it('turns counter differences over the sample interval into average and peak rates per VM', () => {
    const rates = summariseExport(
      [
        m('qemu/100', 'disk_read', 1000, 0), m('qemu/100', 'disk_write', 1000, 0),
        m('qemu/100', 'disk_read', 1010, 10 * MIB), m('qemu/100', 'disk_write', 1010, 30 * MIB),
        m('qemu/100', 'disk_read', 1020, 20 * MIB), m('qemu/100', 'disk_write', 1020, 40 * MIB),
        m('qemu/100', 'cpu_current', 1020, 0.5),
        m('node/pve1', 'disk_read', 1020, 5),
      ],
      '2 minutes',
    );
    expect([...rates.keys()]).toEqual([100]);
    // 60 MiB in 20 s; the first interval moved 40 MiB in 10 s.
    expect(rates.get(100)).toEqual({ timeframe: '2 minutes', avgBytesPerSec: 3 * MIB, peakBytesPerSec: 4 * MIB, avgReadBytesPerSec: 1 * MIB, avgWriteBytesPerSec: 2 * MIB, samples: 2 });
  });

  it('skips the interval of a counter that went down (the VM restarted) and leaves out a VM with one sample', () => {
    const rates = summariseExport(
      [
        m('qemu/101', 'disk_read', 1000, 500), m('qemu/101', 'disk_write', 1000, 500),
        m('qemu/101', 'disk_read', 1010, 0), m('qemu/101', 'disk_write', 1010, 0),
        m('qemu/101', 'disk_read', 1020, 100), m('qemu/101', 'disk_write', 1020, 100),
        m('qemu/102', 'disk_read', 1020, 100), m('qemu/102', 'disk_write', 1020, 100),
      ],
      '2 minutes',
    );
    expect(rates.get(101)).toMatchObject({ avgBytesPerSec: 20, samples: 1 });
    expect(rates.has(102)).toBe(false);
  });
});
