// SPDX-License-Identifier: AGPL-3.0-or-later
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseListSliced } from '../../../src/api/json-slices.js';

const all = (x: unknown): x is unknown => true;
const isDisk = (x: unknown): x is { metric: string } => (x as { metric?: unknown }).metric === 'disk_read';

/** An export as PVE sends it: `{"data":{"data":[...]}}`, one object per metric. */
function exportText(n: number, extra: (i: number) => Record<string, unknown> = () => ({})): string {
  const list = Array.from({ length: n }, (_, i) => ({
    id: `qemu/${100 + (i % 50)}`,
    metric: i % 3 === 0 ? 'disk_read' : 'cpu_current',
    value: i * 1.5,
    timestamp: 1_700_000_000 + i,
    type: 'derive',
    ...extra(i),
  }));
  return JSON.stringify({ data: { data: list } });
}

describe('parseListSliced', () => {
  it('keeps exactly the items one JSON.parse gives, with turns between slices (the thread sends requests meanwhile)', async () => {
    const text = exportText(5000);
    let turns = 0;
    const read = await parseListSliced(text, ['data', 'data'], isDisk, async () => void turns++, 4096);
    const whole = JSON.parse(text) as { data: { data: unknown[] } };
    expect(read.items).toEqual(whole.data.data.filter(isDisk));
    expect(read.rest).toEqual({ data: { data: [] } });
    expect(turns).toBeGreaterThan(50);
  });

  it('a cut inside a string or a nested object is not taken for the end of an item', async () => {
    // `},{` inside strings and between nested objects of one item.
    const text = exportText(2000, (i) => (i % 7 === 0 ? { note: 'a},{"x":1},{', nested: [{ a: 1 }, { b: '},{' }] } : {}));
    const read = await parseListSliced(text, ['data', 'data'], all, async () => {}, 512);
    expect(read.items).toEqual((JSON.parse(text) as { data: { data: unknown[] } }).data.data);
  });

  it('equals JSON.parse for any list of objects with any strings (property)', async () => {
    const item = fc.dictionary(fc.string({ unit: fc.constantFrom('a', '}', '{', ',', '"', '\\', '[', ']', ':', 'é') }), fc.oneof(fc.string(), fc.integer(), fc.array(fc.object(), { maxLength: 2 })), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 60 }), async (list) => {
        const text = JSON.stringify({ data: { data: list } });
        const read = await parseListSliced(text, ['data', 'data'], all, async () => {}, 16);
        expect(read.items).toEqual((JSON.parse(text) as { data: { data: unknown[] } }).data.data);
      }),
      { numRuns: 200 },
    );
  });

  it('anything but a list at the path is one plain JSON.parse', async () => {
    // An empty list elsewhere: the emptied list cannot be told from it.
    const text = JSON.stringify({ data: { other: [], data: Array.from({ length: 300 }, (_, i) => ({ i })) } });
    const read = await parseListSliced(text, ['data', 'data'], all, async () => {}, 64);
    expect(read.items).toHaveLength(300);
    expect(read.rest).toEqual({ data: { other: [], data: [] } });
    const none = await parseListSliced(JSON.stringify({ data: { data: null } }), ['data', 'data'], all, async () => {}, 4);
    expect(none.items).toBeNull();
    await expect(parseListSliced('{"data":{"data":[{"a":1},{"a":2}', ['data', 'data'], all, async () => {}, 4)).rejects.toThrow(SyntaxError);
  });

  describe('with hints (only items containing one are parsed)', () => {
    const hints = ['"disk_read"'];

    it('keeps exactly the items one JSON.parse and the filter give, with turns between slices', async () => {
      const text = exportText(5000);
      let turns = 0;
      const read = await parseListSliced(text, ['data', 'data'], isDisk, async () => void turns++, 4096, hints);
      const whole = JSON.parse(text) as { data: { data: unknown[] } };
      expect(read.items).toEqual(whole.data.data.filter(isDisk));
      expect(read.rest).toEqual({ data: { data: [] } });
      expect(turns).toBeGreaterThan(50);
    });

    it('an item whose metric is spelt with an escape, or nested inside another, is read as JSON.parse reads it (property)', async () => {
      const text = fc.string({ unit: fc.constantFrom('a', '}', '{', ',', '"', '\\', '[', ']', ':', 'é', 'disk_read') });
      const value = fc.oneof(text, fc.integer(), fc.constant('disk_read'), fc.constant({ metric: 'disk_read' }), fc.array(fc.object(), { maxLength: 2 }));
      const item = fc.oneof(
        fc.dictionary(fc.oneof(text, fc.constant('metric')), value, { maxKeys: 4 }),
        fc.record({ metric: fc.constant('disk_read'), id: text }),
        text,
      );
      await fc.assert(
        fc.asyncProperty(fc.array(item, { maxLength: 60 }), fc.boolean(), async (list, escaped) => {
          let json = JSON.stringify({ data: { data: list } });
          // The same value spelt with a JSON escape: `"disk\u005fread"` is "disk_read".
          if (escaped) json = json.replaceAll('"disk_read"', '"disk\\u005fread"');
          const read = await parseListSliced(json, ['data', 'data'], isDisk, async () => {}, 16, hints);
          expect(read.items).toEqual((JSON.parse(json) as { data: { data: unknown[] } }).data.data.filter(isDisk));
        }),
        { numRuns: 300 },
      );
    });

    it('a list that does not delimit as JSON is one plain JSON.parse (and its SyntaxError)', async () => {
      const good = exportText(400);
      for (const bad of [good.replace('},{', '},,{'), good.replace('},{', '}},{'), good.replace(/\]\}\}$/, ',]}}'), good.replace('"id"', '"id')]) {
        await expect(parseListSliced(bad, ['data', 'data'], isDisk, async () => {}, 64, hints)).rejects.toThrow(SyntaxError);
      }
    });
  });
});
