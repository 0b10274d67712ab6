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

/** Copies an object with its keys in one order, shuffling its values (see `compile`). */
type Build = (obj: Record<string, unknown>, keys: KeyOrder, rng: Rng) => Record<string, unknown>;

interface Shape {
  keys: string[];
  orders: string[][];
  /** One copier per order, compiled the first time the order is drawn. */
  builds: Array<Build | undefined>;
}

/**
 * A copier for objects of one key set, writing the keys in `order`: an object literal, so the copy
 * is one allocation of a known layout instead of a store per key through a lookup by name (the
 * qemu?full=1 list of a 333-VM node spent more on those stores than on writing its 660 KB of JSON).
 * Values are copied in `order`, so the random draws of nested objects come in the same sequence
 * as a key-by-key copy (a `__proto__` key sets the prototype in both, as it did before).
 */
function compile(order: readonly string[]): Build {
  const members = order.map((k) => {
    const key = JSON.stringify(k);
    return `${key}: (v = o[${key}], v !== null && typeof v === 'object' ? s.shuffle(v, r) : v)`;
  });
  return new Function('o', 's', 'r', `let v; return { ${members.join(', ')} };`) as Build;
}

export class KeyOrder {
  private readonly shapes = new Map<string, Shape>();
  /** The last key set asked for: lists of one shape skip the lookup. */
  private last: Shape | null = null;

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
    const keys = Object.keys(obj);
    if (keys.length < 2) {
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = this.shuffle(obj[k], rng);
      return out;
    }
    const shape = this.shapeOf(keys);
    const i = Math.floor(rng.next() * ORDERS);
    const build = shape.builds[i] ?? (shape.builds[i] = compile(shape.orders[i]!));
    return build(obj, this, rng);
  }

  /** The keys of `obj` in the order this answer gives them (one draw from `rng`). */
  keys(obj: object, rng: Rng): readonly string[] {
    const keys = Object.keys(obj);
    if (keys.length < 2) return keys;
    return this.shapeOf(keys).orders[Math.floor(rng.next() * ORDERS)]!;
  }

  private shapeOf(keys: string[]): Shape {
    const last = this.last;
    if (last && last.keys.length === keys.length && last.keys.every((k, i) => k === keys[i])) return last;
    const id = keys.join('\0');
    let shape = this.shapes.get(id);
    if (!shape) {
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
      const rng = this.seed.fork(id);
      shape = { keys, orders: Array.from({ length: ORDERS }, () => shuffled(rng, keys)), builds: [] };
      this.shapes.set(id, shape);
    }
    this.last = shape;
    return shape;
  }
}
