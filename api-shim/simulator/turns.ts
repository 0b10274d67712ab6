// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Turns of the event loop inside a big answer. PVE answers requests in several pveproxy worker
 * processes, so building one big answer (the VM list of a 5,000-VM cluster) does not hold up the
 * small ones; the simulator has one thread, so it gives the other requests a turn every SLICE items
 * instead. (Not a node's `qemu?full=1`: the first rows of an audit wait for it, see routes/qemu.ts.)
 */

/** Items built between two turns. */
const SLICE = 250;
/** Lists up to this long are built in one go (small fleets answer as before, in one turn). */
const SMALL = 1000;

/** A turn of the event loop (after pending I/O). */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Calls `fn` for each item in order, with a turn of the event loop every SLICE items when there
 * are more than SMALL of them.
 */
export async function forEachWithTurns<T>(items: Iterable<T>, count: number, fn: (item: T) => void): Promise<void> {
  let i = 0;
  for (const item of items) {
    fn(item);
    if (count > SMALL && ++i % SLICE === 0) await turn();
  }
}
