// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Seeded pseudo-random numbers (sfc32 seeded through splitmix32), so fleets, key order and fault
 * injection are the same for the same seed on every machine.
 */

/** A deterministic random source. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** One element of `[item, weight]` pairs, proportional to weight. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
  /** `n` lowercase hex digits. */
  hex(n: number): string;
  /** A new independent stream derived from this one and a label (stable for the same label). */
  fork(label: string | number): Rng;
}

/** splitmix32: one step from state `a`, returns [next state, output]. */
function splitmix32Step(a: number): [number, number] {
  a = (a + 0x9e3779b9) >>> 0;
  let z = a;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [a, (z ^ (z >>> 16)) >>> 0];
}

/** FNV-1a of a string, to turn labels into seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * sfc32 seeded through splitmix32. A class, not an object of closures: the simulator forks one per
 * answer (key order), so creating one must cost next to nothing.
 */
class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(private readonly seed: number) {
    let s = seed >>> 0;
    let v: number;
    [s, v] = splitmix32Step(s);
    this.a = v;
    [s, v] = splitmix32Step(s);
    this.b = v;
    [s, v] = splitmix32Step(s);
    this.c = v;
    [, v] = splitmix32Step(s);
    this.d = v;
    for (let i = 0; i < 12; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  hex(n: number): string {
    let s = '';
    while (s.length < n) s += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, '0');
    return s.slice(0, n);
  }

  fork(label: string | number): Rng {
    return new Sfc32((this.seed ^ hashString(String(label))) >>> 0);
  }
}

/** Creates a random source from a numeric seed. */
export function createRng(seed: number): Rng {
  return new Sfc32(seed);
}

/** Fisher-Yates shuffle (a copy), for PVE's random (Perl hash) key order. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
