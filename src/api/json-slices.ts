// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `JSON.parse` of an answer whose bulk is one long list of objects, a slice of the list at a time
 * with a turn of the event loop in between. The metrics export of 5,000 VMs is 51 MB (600,000
 * objects): one `JSON.parse` holds the thread for about half a second, and on a thread that also
 * sends the audit's requests every answer that comes in meanwhile waits, with nothing on the wire.
 *
 * Each slice is parsed by `JSON.parse` itself (`[` + slice + `]`), so every value is exactly what
 * one parse of the whole text gives. A slice ends at a `},{` of the text; when that was inside a
 * string or a nested object, the slice is not valid JSON on its own (an unterminated string, an
 * unclosed bracket), its parse throws and the slice is extended to the next `},{`. Anything
 * unexpected (no list where the caller said, a slice that cannot be closed) ends in one
 * `JSON.parse` of the whole text.
 */

/** Characters per slice: about a millisecond of `JSON.parse`. */
const SLICE_CHARS = 128 * 1024;

/** What `parseListSliced` read. */
export interface SlicedList<T> {
  /** The parsed text with an empty list at `listPath`. */
  rest: unknown;
  /** The list's items that `keep` kept, in order; null when there is no list at `listPath`. */
  items: T[] | null;
}

/**
 * Parses `text` and keeps the items of the list at `listPath` (`['data', 'data']`) that `keep`
 * accepts, a slice of the list at a time with `turn()` awaited between slices (items not kept are
 * dropped slice by slice: the whole list is never held).
 * @throws SyntaxError when `text` is not JSON
 */
export async function parseListSliced<T>(
  text: string,
  listPath: readonly string[],
  keep: (item: unknown) => item is T,
  turn: () => Promise<void>,
  sliceChars = SLICE_CHARS,
): Promise<SlicedList<T>> {
  const sliced = await trySliced(text, listPath, keep, sliceChars, turn);
  if (sliced) return sliced;
  const whole = JSON.parse(text) as unknown;
  const list = at(whole, listPath);
  if (!Array.isArray(list)) return { rest: whole, items: null };
  setAt(whole, listPath, []);
  return { rest: whole, items: list.filter(keep) };
}

/** The kept items and the rest of the text, or null when the text is not a list at `listPath` that slices cleanly. */
async function trySliced<T>(
  text: string,
  listPath: readonly string[],
  keep: (item: unknown) => item is T,
  sliceChars: number,
  turn: () => Promise<void>,
): Promise<SlicedList<T> | null> {
  const open = text.indexOf('[');
  const close = text.lastIndexOf(']');
  if (open < 0 || close < open || close - open < sliceChars) return null;
  // The text around the list, with the list emptied: the list must be the only empty one at listPath.
  let rest: unknown;
  try {
    rest = JSON.parse(`${text.slice(0, open)}[]${text.slice(close + 1)}`);
  } catch {
    return null;
  }
  const hole = at(rest, listPath);
  if (!Array.isArray(hole) || hole.length !== 0 || countEmptyLists(rest) !== 1) return null;
  const kept: T[] = [];
  let from = open + 1;
  while (from < close) {
    let end = close;
    let cut = text.indexOf('},{', from + sliceChars);
    let items: unknown[] | null = null;
    while (items === null) {
      end = cut < 0 || cut >= close ? close : cut + 1;
      try {
        items = JSON.parse(`[${text.slice(from, end)}]`) as unknown[];
      } catch {
        // Cut inside a string or a nested object: the next one, or the list's end.
        if (end === close) return null;
        cut = text.indexOf('},{', cut + 1);
      }
    }
    for (const item of items) if (keep(item)) kept.push(item);
    from = end + 1;
    if (from < close) await turn();
  }
  return { rest, items: kept };
}

function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function setAt(value: unknown, path: readonly string[], to: unknown): void {
  const parent = at(value, path.slice(0, -1)) as Record<string, unknown>;
  parent[path[path.length - 1]!] = to;
}

function countEmptyLists(value: unknown): number {
  if (Array.isArray(value)) return value.length === 0 ? 1 : value.reduce((n: number, v) => n + countEmptyLists(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const v of Object.values(value)) n += countEmptyLists(v);
  return n;
}
