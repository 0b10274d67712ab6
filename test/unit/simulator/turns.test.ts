// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import { forEachWithTurns } from '../../../api-shim/simulator/turns.js';

/** Where, among `n` items built, a request that came in when the build started gets its turn (-1: after the build). */
async function turnOfOtherRequest(n: number): Promise<number> {
  const built: number[] = [];
  let at = -1;
  setImmediate(() => (at = built.length));
  await forEachWithTurns(Array.from({ length: n }, (_, i) => i), n, (i) => void built.push(i));
  expect(built).toEqual(Array.from({ length: n }, (_, i) => i));
  return at;
}

describe('forEachWithTurns', () => {
  it("a big list (a node's qemu?full=1 of 1,700 VMs) gives the other requests a turn while it is built", async () => {
    const at = await turnOfOtherRequest(1700);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(1700);
  });

  it('a small fleet is answered in one turn, as before', async () => {
    expect(await turnOfOtherRequest(1000)).toBe(-1);
  });
});
