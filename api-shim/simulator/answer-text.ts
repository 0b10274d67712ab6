// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The JSON text of an answer, keys in PVE's random order (key-order.ts). A big list (the metrics
 * export, `/cluster/resources` of thousands of VMs) is written in slices with a turn of the event
 * loop in between: PVE answers requests in several pveproxy worker processes, so one big answer
 * does not hold up the small ones, and neither may it here (the simulator has one thread).
 */
import type { KeyOrder } from './key-order.js';
import type { Rng } from './rng.js';
import { turn } from './turns.js';

/** A list longer than this is written in slices. */
const BIG = 1000;
/** Items per slice. */
const SLICE = 250;


function left(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/** True when `value` or an object/list within `depth` levels of it is a big list. */
function holdsBigList(value: unknown, depth: number): boolean {
  if (Array.isArray(value)) return value.length > BIG;
  if (depth === 0 || value === null || typeof value !== 'object') return false;
  return Object.values(value).some((v) => holdsBigList(v, depth - 1));
}

async function write(value: unknown, order: { keys: KeyOrder; rng: Rng } | null, out: string[]): Promise<void> {
  const copy = (v: unknown): unknown => (order ? order.keys.shuffle(v, order.rng) : v);
  if (Array.isArray(value) && value.length > BIG) {
    out.push('[');
    for (let i = 0; i < value.length; i += SLICE) {
      const text = JSON.stringify(copy(value.slice(i, i + SLICE)));
      out.push(i > 0 ? ',' : '', text.slice(1, -1));
      await turn();
    }
    out.push(']');
    return;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && holdsBigList(value, 2)) {
    const obj = value as Record<string, unknown>;
    out.push('{');
    let first = true;
    for (const k of order ? order.keys.keys(obj, order.rng) : Object.keys(obj)) {
      if (left(obj[k])) continue;
      out.push(first ? '' : ',', JSON.stringify(k), ':');
      first = false;
      await write(obj[k], order, out);
    }
    out.push('}');
    return;
  }
  out.push(JSON.stringify(copy(value)) ?? 'null');
}

/**
 * `value` as JSON text in parts (their concatenation is the text), every object's keys in an order
 * drawn from `order.rng` (as given when null). A big list is a part per slice, so a big answer can
 * be sent without joining it first.
 */
export async function answerParts(value: unknown, order: { keys: KeyOrder; rng: Rng } | null): Promise<string[]> {
  const out: string[] = [];
  await write(value, order, out);
  return out;
}

/** `value` as JSON text (see answerParts). */
export async function answerText(value: unknown, order: { keys: KeyOrder; rng: Rng } | null): Promise<string> {
  return (await answerParts(value, order)).join('');
}
