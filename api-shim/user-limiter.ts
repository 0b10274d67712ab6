// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Pacing toward PVE, per user (the signed-in PVE user, or the shim's token): at most
 * `concurrency` forwarded requests at once and `perSecond` started per second on average, as a
 * token bucket that holds `concurrency` starts: a burst of one full set of slots goes out at once,
 * a sustained stream is spaced 1000 / perSecond ms apart. (Strict spacing of every start would
 * delay each of the panel's parallel reads by up to `concurrency` x spacing even far below the
 * rate.) Requests over the limit wait their turn instead of failing (the panel's audit of a big cluster is a burst of
 * thousands of reads it should not have to retry); only a queue longer than `maxQueued` is refused,
 * so one user cannot make PVE or the shim hold unbounded work for everybody else.
 */

interface UserState {
  running: number;
  /** Starts the bucket holds (0..burst) at `atMs`. */
  tokens: number;
  atMs: number;
  queue: (() => void)[];
}

export class UserLimiter {
  private readonly users = new Map<string, UserState>();
  /** Starts one burst may take without waiting. */
  private readonly burst: number;

  constructor(
    private readonly concurrency: number,
    private readonly perSecond: number,
    private readonly maxQueued: number,
  ) {
    this.burst = concurrency;
  }

  private state(user: string): UserState {
    let s = this.users.get(user);
    if (!s) {
      s = { running: 0, tokens: this.burst, atMs: Date.now(), queue: [] };
      this.users.set(user, s);
    }
    return s;
  }

  /**
   * A slot of `user` when one and a start are free right now (the common case: the release
   * function, without a promise or a timer), else null; then call `acquire`.
   */
  tryAcquire(user: string): (() => void) | null {
    const s = this.state(user);
    if (s.running >= this.concurrency) return null;
    const now = Date.now();
    const tokens = Math.min(this.burst, s.tokens + ((now - s.atMs) * this.perSecond) / 1000);
    if (tokens < 1) return null;
    s.running++;
    s.tokens = tokens - 1;
    s.atMs = now;
    return this.releaser(user, s);
  }

  /**
   * Waits for a slot of `user`; resolves with the release function, or null when the user's
   * queue is full (the caller answers 429).
   */
  async acquire(user: string): Promise<(() => void) | null> {
    const s = this.state(user);
    if (s.running >= this.concurrency) {
      if (s.queue.length >= this.maxQueued) return null;
      await new Promise<void>((resolve) => s.queue.push(resolve));
    } else {
      s.running++;
    }
    // Refill since the last start, take one token; without one, wait until it has accrued (the
    // token is spent now, so the bucket may go negative: later waiters queue behind this one).
    const now = Date.now();
    s.tokens = Math.min(this.burst, s.tokens + ((now - s.atMs) * this.perSecond) / 1000) - 1;
    s.atMs = now;
    if (s.tokens < 0) await new Promise((r) => setTimeout(r, (-s.tokens * 1000) / this.perSecond));
    return this.releaser(user, s);
  }

  /** The release function of one slot of `user` (idempotent). */
  private releaser(user: string, s: UserState): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = s.queue.shift();
      // The slot passes straight to the next waiter (running stays the same).
      if (next) next();
      else {
        s.running--;
        // Forget an idle user only once the bucket has refilled: else a client that waits for
        // each answer would get a full bucket every time.
        if (s.running === 0 && s.tokens + ((Date.now() - s.atMs) * this.perSecond) / 1000 >= this.burst) this.users.delete(user);
      }
    };
  }

  /** Requests of `user` running now (tests). */
  running(user: string): number {
    return this.users.get(user)?.running ?? 0;
  }
}
