// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The simulator's clock. Wall time plus an offset tests can move forward (ticket expiry after
 * 2 h without waiting 2 h), and a time scale for simulated durations (a 4 s guest shutdown takes
 * 4 s * scale of real time; scale 0 = finish on the next event-loop turn).
 */
export class SimClock {
  private offsetMs = 0;

  /** @param scale real milliseconds per simulated millisecond (0 = as fast as possible). */
  constructor(public scale: number) {
    if (!(scale >= 0)) throw new Error(`clock scale must be a number >= 0, got ${scale}`);
  }

  /** Current simulated time, epoch milliseconds. */
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  /** Current simulated time, epoch seconds (what PVE puts in UPIDs, tickets and RRD points). */
  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Moves simulated time forward without waiting (e.g. to expire tickets). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Waits for a simulated duration, scaled to real time. */
  sleep(simulatedMs: number): Promise<void> {
    const real = simulatedMs * this.scale;
    return new Promise((resolve) => (real >= 1 ? setTimeout(resolve, real) : setImmediate(resolve)));
  }
}
