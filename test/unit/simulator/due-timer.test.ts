// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterEach, describe, expect, it } from 'vitest';
import { DueTimer } from '../../../api-shim/simulator/due-timer.js';

let timer: DueTimer;
afterEach(async () => {
  await timer.close();
});

describe('DueTimer', () => {
  it('never lets an answer leave before its due time (a 0-1 ms timer tick did: 15 ms came out as 14.3)', async () => {
    timer = new DueTimer();
    const early: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      // Due times at fractions of a millisecond, asked for out of order.
      const deadline = performance.now() + 2 + ((i * 7) % 13) * 0.37;
      waits.push(timer.until(deadline).then(() => void (performance.now() < deadline && early.push(deadline - performance.now()))));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(waits);
    expect(early).toEqual([]);
  });

  it('resolves in due order, and a later wait does not hold up an earlier one', async () => {
    timer = new DueTimer();
    const order: string[] = [];
    const t = performance.now();
    await Promise.all([
      timer.until(t + 40).then(() => order.push('late')),
      timer.until(t + 5).then(() => order.push('early')),
      timer.until(t + 20).then(() => order.push('middle')),
    ]);
    expect(order).toEqual(['early', 'middle', 'late']);
  });

  it('close() resolves what is still waiting and stops its thread; a wait asked for later starts none', async () => {
    timer = new DueTimer();
    const waiting = timer.until(performance.now() + 60_000);
    await timer.close();
    await expect(waiting).resolves.toBeUndefined();
    // A request still in the server after its close (its error path waits too) must not start a thread again.
    await expect(timer.until(performance.now() + 60_000)).resolves.toBeUndefined();
    expect((timer as unknown as { worker: unknown }).worker).toBeNull();
  });
});
