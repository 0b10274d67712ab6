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

/**
 * The host's own yield: `scheduler.yield()` where the browser has it (continues ahead of other
 * tasks once input is handled), else `setImmediate` (Node: after pending I/O), else a 0 ms timeout.
 */
export const yieldToHost: YieldToHost = () => {
  const scheduler = (globalThis as { scheduler?: SchedulerLike }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise((r) => void immediate(r));
  return new Promise((r) => setTimeout(r, 0));
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
