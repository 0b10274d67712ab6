// SPDX-License-Identifier: AGPL-3.0-or-later
/** The part of autocannon 8 (no bundled types) bench/shim-overhead.ts uses. */
declare module 'autocannon' {
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    headers?: Record<string, string>;
  }
  interface Result {
    latency: { p50: number; p99: number; average: number };
    requests: { average: number };
    non2xx: number;
    errors: number;
  }
  /** The running instance: a promise of the result that also emits per-answer events. */
  interface Instance extends Promise<Result> {
    /** Every answer: its status and its latency in ms (hrtime, fractional). */
    on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): this;
  }
  function autocannon(opts: Options): Instance;
  export default autocannon;
}
