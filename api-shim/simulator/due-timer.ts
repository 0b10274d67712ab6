// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Waits until an answer's due time (request arrival + simulated latency) to within a fraction of a
 * millisecond, never before it. A `setTimeout` cannot: Node's timers count whole milliseconds from
 * the loop's cached clock, so a 15 ms latency came out at 14.7 to 15.8 ms (p50 15.4), and a
 * benchmark against a latency bound charged the simulator's rounding to the client.
 *
 * One worker thread sleeps on a futex (`Atomics.wait`, microsecond timeouts) until the earliest due
 * time and then posts one message; the simulator's event loop wakes for it like for any I/O,
 * resolves every wait that is due, and tells the worker the next due time through shared memory.
 * A real PVE answers when its work is done, not on a millisecond tick: this is the closer stand-in.
 */
import { Worker } from 'node:worker_threads';

/**
 * The worker: shared Int32 [0] is a generation the main thread bumps whenever the next due time
 * (Float64 at byte 8, `process.hrtime` ms: one clock for both threads; Infinity for none)
 * changes. When due, it posts once and waits for the next generation.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const gen = new Int32Array(workerData, 0, 1);
const due = new Float64Array(workerData, 8, 1);
for (;;) {
  const g = Atomics.load(gen, 0);
  const wait = due[0] - Number(process.hrtime.bigint()) / 1e6;
  if (wait > 0) { Atomics.wait(gen, 0, g, wait); continue; }
  parentPort.postMessage(g);
  Atomics.wait(gen, 0, g);
}
`;

/** The monotonic clock both threads read, ms. */
const clockMs = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Waiter {
  /** `clockMs()` at which it is due. */
  at: number;
  resolve: () => void;
}

/** Waits that resolve at their due time; one worker thread for all of them. */
export class DueTimer {
  private readonly shared = new SharedArrayBuffer(16);
  private readonly gen = new Int32Array(this.shared, 0, 1);
  private readonly next = new Float64Array(this.shared, 8, 1);
  /** Sorted by `at`, earliest first (a few dozen at most: one per request in flight). */
  private waiters: Waiter[] = [];
  private worker: Worker | null = null;
  private closed = false;

  constructor() {
    this.next[0] = Infinity;
  }

  /** Resolves at `deadline` (`performance.now()` ms of this thread), never earlier; at once once closed. */
  until(deadline: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    const at = clockMs() + (deadline - performance.now());
    return new Promise((resolve) => {
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.at > at) i--;
      this.waiters.splice(i, 0, { at, resolve });
      if (i === 0) this.arm();
    });
  }

  /** Stops the worker; waits still pending, and any asked for later, resolve at once. */
  close(): Promise<unknown> {
    this.closed = true;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.resolve();
    const worker = this.worker;
    this.worker = null;
    return worker ? worker.terminate() : Promise.resolve();
  }

  /** Tells the worker the earliest due time (starting it on first use). */
  private arm(): void {
    if (!this.worker) {
      this.worker = new Worker(WORKER, { eval: true, workerData: this.shared });
      // Never what keeps the process alive: a pending wait belongs to a request, which does.
      this.worker.unref();
      this.worker.on('message', () => this.fire());
    }
    this.next[0] = this.waiters[0]?.at ?? Infinity;
    Atomics.add(this.gen, 0, 1);
    Atomics.notify(this.gen, 0);
  }

  private fire(): void {
    const now = clockMs();
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.at <= now) n++;
    const due = this.waiters.splice(0, n);
    this.arm();
    for (const w of due) w.resolve();
  }
}
