// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it, vi } from 'vitest';
import { Backlog, forEachSliced, yieldToHost, yieldToIo } from '../../../src/audit/slices.js';

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

describe('Backlog', () => {
  it('runs its jobs in order, after the turn that pushed them, a slice of work between turns (answers are handled first)', async () => {
    const order: string[] = [];
    let turns = 0;
    const backlog = new Backlog({ sliceMs: 2, yieldTo: () => new Promise((r) => setImmediate(() => (turns++, r()))) });
    const done = Array.from({ length: 10 }, (_, i) => backlog.push(() => (busy(1), order.push(`job ${i}`))));
    // What the pushing turn still does (an answer handled, the next request sent) comes first.
    order.push('rest of the turn');
    setImmediate(() => order.push('next turn'));
    await Promise.all(done);
    expect(order[0]).toBe('rest of the turn');
    expect(order.filter((o) => o.startsWith('job'))).toEqual(Array.from({ length: 10 }, (_, i) => `job ${i}`));
    // About 2 jobs per slice, and the answers of the next turn got in between.
    expect(turns).toBeGreaterThanOrEqual(4);
    expect(order.indexOf('next turn')).toBeLessThan(order.length - 1);
  });

  it('a job that throws rejects with its error, and so do the jobs after it', async () => {
    const backlog = new Backlog({ yieldTo: async () => {} });
    const ran: number[] = [];
    const first = backlog.push(() => void ran.push(1));
    const bad = backlog.push(() => {
      throw new Error('analysis bug');
    });
    const after = backlog.push(() => void ran.push(3));
    await expect(first).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('analysis bug');
    await expect(after).rejects.toThrow('analysis bug');
    expect(ran).toEqual([1]);
  });

  it('an aborted audit stops its backlog with the abort reason', async () => {
    const ac = new AbortController();
    const backlog = new Backlog({ signal: ac.signal, sliceMs: 0 });
    const first = backlog.push(() => ac.abort(new Error('load replaced')));
    const second = backlog.push(() => {});
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toThrow('load replaced');
  });
});

describe('yieldToHost', () => {
  it('without scheduler.yield and setImmediate (Safari) it yields through a message, not a 0 ms timer (clamped to 4 ms when nested)', async () => {
    const immediate = globalThis.setImmediate;
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      // @ts-expect-error a browser has none
      delete globalThis.setImmediate;
      // Timers never fire here (fake, not advanced): only the message can resolve these.
      for (let i = 0; i < 3; i++) await yieldToHost();
      // The backlog's turn in a browser: behind the network's tasks, never clamped.
      for (let i = 0; i < 3; i++) await yieldToIo();
    } finally {
      globalThis.setImmediate = immediate;
      vi.useRealTimers();
    }
  });
});
