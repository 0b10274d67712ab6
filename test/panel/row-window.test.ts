// SPDX-License-Identifier: AGPL-3.0-or-later
/** The fleet grid's windowing: which rows a scrolled band shows, from row heights alone. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowOffsets } from '../../panel/controllers/row-window.js';

/** Every row intersecting [from, to), by walking the rows one by one. */
function bruteRange(heights: number[], from: number, to: number): { start: number; end: number } {
  const hit: number[] = [];
  let top = 0;
  heights.forEach((h, i) => {
    if (top < to && top + h > from) hit.push(i);
    top += h;
  });
  return hit.length ? { start: hit[0]!, end: hit[hit.length - 1]! + 1 } : { start: 0, end: 0 };
}

describe('RowOffsets', () => {
  it('places rows one under the other: top, height, total', () => {
    const o = new RowOffsets([24, 41, 24]);
    expect([o.top(0), o.top(1), o.top(2), o.total, o.height(1), o.count]).toEqual([0, 24, 65, 89, 41, 3]);
  });

  it('a band shows exactly the rows it intersects, for any heights and band', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 60 }), fc.nat(12_000), fc.integer({ min: 1, max: 3_000 }), (heights, from, size) => {
        const o = new RowOffsets(heights);
        const to = Math.min(from + size, o.total);
        if (to <= from) return;
        expect(o.range(from, to)).toEqual(bruteRange(heights, from, to));
      }),
    );
  });

  it('a band above the list starts at the first row; an empty list shows nothing', () => {
    expect(new RowOffsets([24, 24]).range(-300, 10)).toEqual({ start: 0, end: 1 });
    expect(new RowOffsets([]).range(0, 900)).toEqual({ start: 0, end: 0 });
  });
});
