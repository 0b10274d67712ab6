// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Pacing toward PVE, per user (the signed-in PVE user, or the shim's token): at most
 * `concurrency` forwarded requests at once and `perSecond` started per second. Requests over the
 * limit wait their turn instead of failing (the panel's audit of a big cluster is a burst of
 * thousands of reads it should not have to retry); only a queue longer than `maxQueued` is refused,
 * so one user cannot make PVE or the shim hold unbounded work for everybody else.
 */

interface UserState {
  running: number;
  /** Earliest time (ms) the next request may start. */
  nextStartMs: number;
  queue: (() => void)[];
}

export class UserLimiter {
  private readonly users = new Map<string, UserState>();

  constructor(
    private readonly concurrency: number,
    private readonly perSecond: number,
    private readonly maxQueued: number,
  ) {}

  /**
   * Waits for a slot of `user`; resolves with the release function, or null when the user's
   * queue is full (the caller answers 429).
   */
  async acquire(user: string): Promise<(() => void) | null> {
    let s = this.users.get(user);
    if (!s) {
      s = { running: 0, nextStartMs: 0, queue: [] };
      this.users.set(user, s);
    }
    if (s.running >= this.concurrency) {
      if (s.queue.length >= this.maxQueued) return null;
      await new Promise<void>((resolve) => s.queue.push(resolve));
    } else {
      s.running++;
    }
    // Spacing of starts: 1000 / perSecond ms apart.
    const now = Date.now();
    const start = Math.max(now, s.nextStartMs);
    s.nextStartMs = start + 1000 / this.perSecond;
    if (start > now) await new Promise((r) => setTimeout(r, start - now));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = s.queue.shift();
      // The slot passes straight to the next waiter (running stays the same).
      if (next) next();
      else {
        s.running--;
        if (s.running === 0) this.users.delete(user);
      }
    };
  }

  /** Requests of `user` running now (tests). */
  running(user: string): number {
    return this.users.get(user)?.running ?? 0;
  }
}
