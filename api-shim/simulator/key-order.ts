// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Answers with object keys in a random order, like pve-http-server's (Perl hashes have no order,
 * and each hash has its own). Each object of an answer gets one of a few seeded orders of its key
 * set, drawn per object: clients see the keys of neighbouring objects in different orders, as from
 * PVE, while objects of one shape share a handful of layouts. A fresh order per object would make
 * every object of a big answer (the 30 counters of each disk in `qemu?full=1`, 600,000 metrics
 * in the metrics export of 5,000 VMs) a layout of its own, which costs the simulator more than
 * the rest of the answer.
 */
import { type Rng, shuffled } from './rng.js';

/** Orders per key set. */
const ORDERS = 8;
/** Key sets remembered before the cache starts over (answers have a few hundred shapes). */
const MAX_SHAPES = 4096;

export class KeyOrder {
  private readonly orders = new Map<string, string[][]>();
  /** The last key set asked for: lists of one shape skip the lookup. */
  private last: { keys: string[]; orders: string[][] } | null = null;

  /** `seed`: where the orders of each key set are drawn from (the same for the same key set). */
  constructor(private readonly seed: Rng) {}

  /** Deep copy of `value` with every object's keys in one of its key set's orders (drawn from `rng`). Arrays keep order. */
  shuffle(value: unknown, rng: Rng): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      const list: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) list[i] = this.shuffle(value[i], rng);
      return list;
    }
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of this.keys(obj, rng)) out[k] = this.shuffle(obj[k], rng);
    return out;
  }

  /** The keys of `obj` in the order this answer gives them (one draw from `rng`). */
  keys(obj: object, rng: Rng): readonly string[] {
    const keys = Object.keys(obj);
    if (keys.length < 2) return keys;
    return this.ordersOf(keys)[Math.floor(rng.next() * ORDERS)]!;
  }

  private ordersOf(keys: string[]): string[][] {
    const last = this.last;
    if (last && last.keys.length === keys.length && last.keys.every((k, i) => k === keys[i])) return last.orders;
    const shape = keys.join('\0');
    let orders = this.orders.get(shape);
    if (!orders) {
      if (this.orders.size >= MAX_SHAPES) this.orders.clear();
      const rng = this.seed.fork(shape);
      orders = Array.from({ length: ORDERS }, () => shuffled(rng, keys));
      this.orders.set(shape, orders);
    }
    this.last = { keys, orders };
    return orders;
  }
}
