// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Long synchronous loops cut into slices that give the host's event loop a turn in between, so a
 * 5,000-VM risk reassessment does not freeze a browser tab (clicks, paints) or a server's other
 * requests. Isomorphic: no DOM and no `node:*`, only timers both sides have.
 */

/** Gives the event loop a turn; resolves when the caller may continue. */
export type YieldToHost = () => Promise<void>;

/** Work between two yields, in ms: well under one 16 ms frame, so input is answered within a frame or two. */
export const SLICE_MS = 8;

interface SchedulerLike {
  yield?: () => Promise<void>;
}

/** Resolvers waiting for the shared channel's next message (see `yieldToHost`). */
let channelWaiters: Array<() => void> = [];
let channel: { post: () => void } | null = null;

/** A task through a MessageChannel: unlike nested 0 ms timeouts, never clamped to 4 ms. */
function channelTask(): Promise<void> | null {
  const MC = (globalThis as { MessageChannel?: typeof MessageChannel }).MessageChannel;
  if (typeof MC !== 'function') return null;
  if (!channel) {
    const { port1, port2 } = new MC();
    port1.onmessage = () => {
      const waiters = channelWaiters;
      channelWaiters = [];
      for (const w of waiters) w();
    };
    channel = { post: () => port2.postMessage(null) };
  }
  return new Promise((r) => {
    if (channelWaiters.push(r) === 1) channel!.post();
  });
}

/**
 * A turn that lets waiting I/O in first: `setImmediate` in Node (runs after the poll for I/O), a
 * MessageChannel task in a browser (queued behind the network's tasks, where a `scheduler.yield()`
 * continuation may go ahead of them), else a 0 ms timeout. The Backlog's default.
 */
export const yieldToIo: YieldToHost = () => {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise((r) => void immediate(r));
  return channelTask() ?? new Promise((r) => setTimeout(r, 0));
};

/**
 * The host's own yield: `scheduler.yield()` where the browser has it (continues ahead of other
 * tasks once input is handled), else `yieldToIo` (never a nested 0 ms timeout where a
 * MessageChannel exists: browsers clamp those to 4 ms, so a backlog of one job per turn would
 * wait 4 ms per job).
 */
export const yieldToHost: YieldToHost = () => {
  const scheduler = (globalThis as { scheduler?: SchedulerLike }).scheduler;
  return typeof scheduler?.yield === 'function' ? scheduler.yield() : yieldToIo();
};

/** Options of `forEachSliced`. */
export interface SliceOptions {
  /** Default `yieldToHost`. */
  yieldTo?: YieldToHost;
  /** Work between yields in ms; default `SLICE_MS`. */
  sliceMs?: number;
  /** Checked after each yield: an aborted run stops with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Calls `fn` for each item in order, yielding to the host after every `sliceMs` of work.
 * @throws the signal's reason once it is aborted
 */
export async function forEachSliced<T>(items: Iterable<T>, fn: (item: T) => void, opts: SliceOptions = {}): Promise<void> {
  const yieldTo = opts.yieldTo ?? yieldToHost;
  const sliceMs = opts.sliceMs ?? SLICE_MS;
  let sliceStart = performance.now();
  for (const item of items) {
    fn(item);
    if (performance.now() - sliceStart >= sliceMs) {
      await yieldTo();
      opts.signal?.throwIfAborted();
      sliceStart = performance.now();
    }
  }
}

/** Options of a `Backlog`. */
export interface BacklogOptions {
  /** Default `yieldToIo`. */
  yieldTo?: YieldToHost;
  /** Work between yields in ms; default `BACKLOG_SLICE_MS`. */
  sliceMs?: number;
  /** Checked after each yield: an aborted backlog stops with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Work between two turns of a `Backlog`, in ms: 0 is one job (one VM's analysis or risk, 0.2-0.5
 * ms) per turn. An answer that arrives while a slice runs waits for it before the next request
 * can leave, so the slice is the delay the audit adds to a request (15 ms of latency: 1 ms is
 * 7 %); a turn with nothing to read costs a few µs.
 */
export const BACKLOG_SLICE_MS = 0;

/**
 * Work that must not hold up the requests of the same thread: each job runs in a later turn of
 * the event loop, after the answers that came in meanwhile were handled and the next requests
 * sent (Node: `setImmediate` runs after the poll for I/O). Jobs run in the order they were pushed,
 * in slices of `sliceMs` with a turn in between.
 */
export class Backlog {
  private readonly jobs: Array<{ run: () => void; resolve: () => void; reject: (err: unknown) => void }> = [];
  private head = 0;
  private running = false;
  private failure: { error: unknown } | null = null;

  constructor(private readonly opts: BacklogOptions = {}) {}

  /**
   * Queues `job`. The promise resolves once it ran; it rejects with the job's error, or with the
   * error of an earlier job or the abort that stopped the backlog before it ran.
   */
  push(job: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure.error);
      this.jobs.push({ run: job, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    const yieldTo = this.opts.yieldTo ?? yieldToIo;
    const sliceMs = this.opts.sliceMs ?? BACKLOG_SLICE_MS;
    try {
      while (this.head < this.jobs.length) {
        // A turn first: the answers that are in go out as new requests before this slice runs.
        await yieldTo();
        this.opts.signal?.throwIfAborted();
        const start = performance.now();
        do {
          const job = this.jobs[this.head++]!;
          job.run();
          job.resolve();
        } while (this.head < this.jobs.length && performance.now() - start < sliceMs);
        if (this.head > 1024 && this.head * 2 > this.jobs.length) {
          this.jobs.splice(0, this.head);
          this.head = 0;
        }
      }
    } catch (error) {
      // The job that threw, and every one after it, reject with the error.
      this.failure = { error };
      for (let i = Math.max(0, this.head - 1); i < this.jobs.length; i++) this.jobs[i]!.reject(error);
      this.jobs.length = 0;
      this.head = 0;
    } finally {
      this.running = false;
    }
  }
}
