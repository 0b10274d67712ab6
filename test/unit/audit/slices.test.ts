// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import { forEachSliced } from '../../../src/audit/slices.js';

/** Burns `ms` of CPU, like the risk reassessment of a few VMs. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('forEachSliced', () => {
  it('lets a timer queued before a long loop run before the loop ends (the page answers a click)', async () => {
    const order: string[] = [];
    setTimeout(() => order.push('timer'), 0);
    await forEachSliced(
      Array.from({ length: 40 }, (_, i) => i),
      (i) => {
        busy(1);
        order.push(`item ${i}`);
      },
      { sliceMs: 8, yieldTo: () => new Promise((r) => setTimeout(r, 0)) },
    );
    const timerAt = order.indexOf('timer');
    expect(timerAt).toBeGreaterThan(0);
    expect(timerAt).toBeLessThan(order.length - 1);
    expect(order.filter((o) => o !== 'timer')).toEqual(Array.from({ length: 40 }, (_, i) => `item ${i}`));
  });

  it('yields once per slice of work, not per item', async () => {
    let yields = 0;
    const yieldTo = async () => void yields++;
    await forEachSliced(Array.from({ length: 1000 }, (_, i) => i), () => {}, { sliceMs: 1_000, yieldTo });
    expect(yields).toBe(0);
    await forEachSliced([1, 2, 3, 4], () => busy(3), { sliceMs: 2, yieldTo });
    expect(yields).toBe(4);
  });

  it('stops with the abort reason after a yield once the load is aborted', async () => {
    const ac = new AbortController();
    let seen = 0;
    const run = forEachSliced(
      [1, 2, 3],
      () => {
        seen++;
        busy(2);
        ac.abort(new Error('load replaced'));
      },
      { sliceMs: 1, signal: ac.signal },
    );
    await expect(run).rejects.toThrow('load replaced');
    expect(seen).toBe(1);
  });
});
