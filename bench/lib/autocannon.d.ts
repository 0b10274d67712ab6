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
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
