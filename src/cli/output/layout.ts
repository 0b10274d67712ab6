// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Fitting text to a terminal width without losing any of it: prose is word-wrapped with a hanging
 * indent, table cells are wrapped inside their column. Text is kept as styled pieces until the
 * last step, so a wrapped line never cuts an ANSI colour sequence in half.
 */

import { visibleLength } from './style.js';

/** A run of text with one style (identity when absent). */
export interface Piece {
  text: string;
  style?: (text: string) => string;
  /** Stays on the line of the text before it (a `·` separator never starts a line). */
  glue?: boolean;
}

/** Characters after which a word longer than the line may be broken (paths, volume ids, options). */
const SOFT_BREAK = /[/:_,=.-]/;

/** Splits one word longer than `width` into chunks, preferring a break after `/`, `:`, `_`, `-`, ... */
function breakWord(word: string, width: number): string[] {
  const out: string[] = [];
  let rest = word;
  while (rest.length > width) {
    let cut = width;
    for (let i = width - 1; i >= Math.ceil(width / 2); i--) {
      if (SOFT_BREAK.test(rest[i] as string)) {
        cut = i + 1;
        break;
      }
    }
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest !== '') out.push(rest);
  return out;
}

/** Words of a text; an arrow stays with the value after it (`→ on` never ends a line with `→`). */
function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const w of text.split(/ +/)) {
    if (w === '') continue;
    if (out.length > 0 && out[out.length - 1] === '→') out[out.length - 1] = `→ ${w}`;
    else out.push(w);
  }
  return out;
}

interface Word {
  text: string;
  style?: (text: string) => string;
}

function paint(words: Word[]): string {
  // Adjacent words of one style are painted together: fewer escape codes, same look.
  let out = '';
  let run: Word[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const text = run.map((w) => w.text).join(' ');
    out += (out === '' ? '' : ' ') + (run[0]!.style ? run[0]!.style(text) : text);
    run = [];
  };
  for (const w of words) {
    if (run.length > 0 && run[0]!.style !== w.style) flush();
    run.push(w);
  }
  flush();
  return out;
}

/**
 * Word-wraps `pieces` to lines of at most `width` printed columns: the first line starts with
 * `first`, the others with `next` (counted in the width; ANSI codes in them do not count). Words
 * longer than a line are broken; `width` Infinity wraps nothing. Every word is kept.
 */
export function wrapPieces(pieces: Piece[], width: number, first = '', next = first): string[] {
  const whole = oneLine(pieces, width, first);
  if (whole !== null) return [whole];
  const words: Array<Word & { glue?: boolean }> = [];
  for (const p of pieces) {
    for (const text of splitWords(p.text)) {
      const word: Word & { glue?: boolean } = { text };
      if (p.style) word.style = p.style;
      if (p.glue) word.glue = true;
      words.push(word);
    }
  }
  // Room the glued words right after word i need on its line.
  const tail = new Array<number>(words.length).fill(0);
  for (let i = words.length - 2; i >= 0; i--) if (words[i + 1]!.glue) tail[i] = 1 + words[i + 1]!.text.length + tail[i + 1]!;
  const lines: string[] = [];
  let line: Word[] = [];
  let used = 0;
  let prefix = first;
  let room = Math.max(8, width - visibleLength(prefix));
  const push = () => {
    lines.push(prefix + paint(line));
    line = [];
    used = 0;
    if (prefix !== next) {
      prefix = next;
      room = Math.max(8, width - visibleLength(prefix));
    }
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const chunks = w.text.length > room ? breakWord(w.text, room) : [w.text];
    for (let k = 0; k < chunks.length; k++) {
      const text = chunks[k]!;
      const add = (line.length > 0 ? 1 : 0) + text.length + (k === chunks.length - 1 ? tail[i]! : 0);
      if (line.length > 0 && !w.glue && used + add > room) push();
      used += (line.length > 0 ? 1 : 0) + text.length;
      line.push(w.style ? { text, style: w.style } : { text });
    }
  }
  if (line.length > 0 || lines.length === 0) push();
  return lines;
}

/**
 * {@link wrapPieces} when every piece is plain words (single spaces between, none around) and all
 * of them fit on the first line: that line, painted alike without splitting the words; else null.
 * Most VM headers of a 120-column table are one such line.
 */
export function oneLine(pieces: Piece[], width: number, first: string): string | null {
  if (pieces.length === 0) return null;
  let total = -1;
  for (const p of pieces) {
    const t = p.text;
    if (t === '' || t.charCodeAt(0) === 32 || t.charCodeAt(t.length - 1) === 32 || t.includes('  ')) return null;
    total += t.length + 1;
  }
  if (total > Math.max(8, width - visibleLength(first))) return null;
  // Adjacent pieces of one style are painted together, as paint() does with their words.
  let out = first;
  for (let i = 0; i < pieces.length; ) {
    const style = pieces[i]!.style;
    let text = pieces[i]!.text;
    while (++i < pieces.length && pieces[i]!.style === style) text += ` ${pieces[i]!.text}`;
    out += `${out === first ? '' : ' '}${style ? style(text) : text}`;
  }
  return out;
}

/** Printed length of a cell on one line. */
export function cellLength(cell: Piece[]): number {
  let n = cell.length > 0 ? cell.length - 1 : 0;
  for (const p of cell) n += p.text.length;
  return n;
}

/** The longest word of a cell: below this the cell needs broken words. */
export function longestWord(cell: Piece[]): number {
  let longest = 0;
  for (const p of cell) {
    if (!p.text.includes(' ')) longest = Math.max(longest, p.text.length);
    else for (const w of splitWords(p.text)) longest = Math.max(longest, w.length);
  }
  return longest;
}

/**
 * The lines of one cell in a column `width` wide: one line when it fits; otherwise each piece
 * (e.g. the current value, then `→ after cold start`) starts a new line and is word-wrapped.
 */
export function cellLines(cell: Piece[], width: number): string[] {
  if (cell.length === 1) {
    const { text, style } = cell[0]!;
    if (text.length <= width) return [text !== '' && style ? style(text) : text];
    // One word too long for the column (a volume id): its chunks, one per line, as wrapPieces
    // gives them (a chunk and the next never fit on one line: each was cut from a longer rest).
    if (!text.includes(' ')) {
      const chunks = breakWord(text, Math.max(8, width));
      return style ? chunks.map(style) : chunks;
    }
  }
  if (cellLength(cell) <= width) return [paint(cell.filter((p) => p.text !== '').map((p) => ({ text: p.text, ...(p.style ? { style: p.style } : {}) })))];
  return cell.flatMap((p) => wrapPieces([p], width));
}

/**
 * What decides how a cell wraps: its pieces, with every character but spaces, `→` and the soft
 * breaks of breakWord reduced to `x` (`local-lvm:vm-100-disk-0` wraps like `local-lvm:vm-101-disk-0`).
 */
function shapeOf(cell: Piece[]): string {
  return cell.map((p) => p.text.replace(NOT_SHAPE, 'x')).join('\u0000');
}
const NOT_SHAPE = /[^ /:_,=.\-→]/g;

/**
 * Column widths that fit `budget` printed columns (gaps excluded) for `rows` of cells (one per
 * column). Natural widths when they fit; else, one column at a time, the column whose narrowing
 * adds the fewest printed lines to the table (a row is as tall as its tallest cell; the widest
 * column on a tie) gives up one column, never below its minimum. When even the minimums do not
 * fit, the minimums are returned (lines are then wider than asked, but complete).
 */
export function fitColumns(rows: Piece[][][], minimum: number[], budget: number): number[] {
  const n = minimum.length;
  const widths = [...minimum];
  for (const row of rows) for (let c = 0; c < n; c++) widths[c] = Math.max(widths[c]!, cellLength(row[c] ?? []));
  let total = widths.reduce((a, b) => a + b, 0);
  if (total <= budget) return widths;
  // No column gets more than the others' minimums leave; a huge cell (a 200k-character value)
  // would otherwise cost one narrowing step per character.
  const floorSum = minimum.reduce((a, b) => a + b, 0);
  for (let c = 0; c < n; c++) widths[c] = Math.min(widths[c]!, Math.max(minimum[c]!, budget - (floorSum - minimum[c]!)));
  total = widths.reduce((a, b) => a + b, 0);
  if (total <= budget) return widths;
  // Cells of one shape wrap alike: each distinct shape of a column is wrapped once per width, and
  // rows whose cells have the same shapes count once, with their number (`weight`). 17,500 disk
  // rows of 5,000 VMs are a few hundred such groups.
  const cells: Piece[][][] = Array.from({ length: n }, () => []);
  const shapeIds = Array.from({ length: n }, () => new Map<string, number>());
  const shapes = new Map<string, string>();
  const groupOf = new Map<string, number>();
  const groupIds: number[][] = [];
  const weights: number[] = [];
  for (const row of rows) {
    const tuple: number[] = [];
    for (let c = 0; c < n; c++) {
      const cell = row[c] ?? [];
      // Most columns repeat a few one-piece texts: their shape is worked out once per text.
      let key = cell.length === 1 ? shapes.get(cell[0]!.text) : undefined;
      if (key === undefined) {
        key = shapeOf(cell);
        if (cell.length === 1) shapes.set(cell[0]!.text, key);
      }
      let id = shapeIds[c]!.get(key);
      if (id === undefined) {
        id = cells[c]!.length;
        cells[c]!.push(cell);
        shapeIds[c]!.set(key, id);
      }
      tuple.push(id);
    }
    const key = tuple.join(',');
    const group = groupOf.get(key);
    if (group === undefined) {
      groupOf.set(key, groupIds.length);
      groupIds.push(tuple);
      weights.push(1);
    } else {
      weights[group]!++;
    }
  }
  const rowCount = groupIds.length;
  const ids: Int32Array[] = [];
  const counts: number[][] = [];
  for (let c = 0; c < n; c++) {
    const column = new Int32Array(rowCount);
    const count = new Array<number>(cells[c]!.length).fill(0);
    for (let i = 0; i < rowCount; i++) {
      column[i] = groupIds[i]![c]!;
      count[column[i]!]! += weights[i]!;
    }
    ids.push(column);
    counts.push(count);
  }
  // Per distinct cell and width: its printed lines, and how many of its words must be broken
  // (flat arrays indexed by cell × width: this runs for every row at every step of the fitting).
  const maxWidth = widths.reduce((m, w) => Math.max(m, w), 0) + 1;
  const stride = maxWidth + 1;
  const memoLines = cells.map((list) => new Int32Array(list.length * stride).fill(-1));
  const memoBroken = cells.map((list) => new Int32Array(list.length * stride));
  const linesOf = (c: number, id: number, w: number): number => {
    const at = id * stride + Math.min(w, maxWidth);
    const lines = memoLines[c]!;
    if (lines[at] === -1) {
      const cell = cells[c]![id]!;
      const width = Math.min(w, maxWidth);
      const word = cell.length === 1 && !cell[0]!.text.includes(' ') ? cell[0]!.text : null;
      if (word !== null) {
        // One word (most cells: a volume id, a device): its chunks, without building the lines.
        lines[at] = word.length <= width ? 1 : breakWord(word, Math.max(8, width)).length;
        memoBroken[c]![at] = word.length > width ? 1 : 0;
      } else {
        lines[at] = cellLines(cell, width).length;
        memoBroken[c]![at] = cellLength(cell) <= width ? 0 : cell.flatMap((p) => splitWords(p.text)).filter((word) => word.length > width).length;
      }
    }
    return lines[at]!;
  };
  const memoColumnBroken = cells.map(() => new Int32Array(stride).fill(-1));
  /** Broken words of column `c` at width `w`, over all rows. */
  const brokenOf = (c: number, w: number): number => {
    const at = Math.min(w, maxWidth);
    const memo = memoColumnBroken[c]!;
    if (memo[at] !== -1) return memo[at]!;
    const count = counts[c]!;
    const broken = memoBroken[c]!;
    let sum = 0;
    for (let id = 0; id < count.length; id++) {
      linesOf(c, id, w);
      sum += count[id]! * broken[id * stride + at]!;
    }
    memo[at] = sum;
    return sum;
  };
  // The table at the current widths, kept for the row-by-row sum below: per row the tallest cell
  // (`top`, in column `topColumn`) and the tallest of the other columns (`second`), so a row's
  // height with column c at another width is max(c === topColumn ? second : top, lines of c).
  const top = new Int32Array(rowCount);
  const topColumn = new Int32Array(rowCount);
  const second = new Int32Array(rowCount);
  const brokenAt = new Array<number>(n).fill(0);
  let brokenTotal = 0;
  let measured: number[] | null = null;
  const measure = (): void => {
    if (measured !== null && measured.every((w, k) => w === widths[k])) return;
    top.fill(1);
    topColumn.fill(-1);
    second.fill(1);
    for (let k = 0; k < n; k++) {
      const column = ids[k]!;
      const w = widths[k]!;
      for (let i = 0; i < rowCount; i++) {
        const lines = linesOf(k, column[i]!, w);
        if (lines > top[i]!) {
          second[i] = top[i]!;
          top[i] = lines;
          topColumn[i] = k;
        } else if (lines > second[i]!) {
          second[i] = lines;
        }
      }
      brokenAt[k] = brokenOf(k, w);
    }
    brokenTotal = brokenAt.reduce((a, b) => a + b, 0);
    measured = [...widths];
  };
  // Cost of a layout: printed lines, plus one per broken word (a volume id cut in two is harder
  // to read, and to search for, than one more line). Column `c` at width `w`, the others as they are.
  const height = (c: number, w: number): number => {
    measure();
    if (c < 0) {
      let sum = brokenTotal;
      for (let i = 0; i < rowCount; i++) sum += weights[i]! * top[i]!;
      return sum;
    }
    let sum = brokenTotal - brokenAt[c]! + brokenOf(c, w);
    const column = ids[c]!;
    for (let i = 0; i < rowCount; i++) {
      const others = topColumn[i] === c ? second[i]! : top[i]!;
      const lines = linesOf(c, column[i]!, w);
      sum += weights[i]! * (lines > others ? lines : others);
    }
    return sum;
  };
  while (total > budget) {
    let pick = -1;
    let pickHeight = Infinity;
    for (let c = 0; c < n; c++) {
      const w = widths[c]!;
      if (w <= minimum[c]!) continue;
      const h = height(c, w - 1);
      if (h < pickHeight || (h === pickHeight && w > widths[pick]!)) {
        pick = c;
        pickHeight = h;
      }
    }
    if (pick < 0) break;
    widths[pick] = widths[pick]! - 1;
    total--;
  }
  // Narrowing one column at a time can leave width where it no longer helps (a column already
  // wrapped): give it back, then spend the room where it saves the most lines.
  for (let round = 0; round < n * 4; round++) {
    let cost = height(-1, 0);
    for (let c = 0; c < n; c++) {
      while (widths[c]! > minimum[c]! && height(c, widths[c]! - 1) === cost) {
        widths[c] = widths[c]! - 1;
        total--;
      }
    }
    let best: { c: number; w: number; gain: number } | null = null;
    for (let c = 0; c < n; c++) {
      for (let w = widths[c]! + 1; w <= widths[c]! + (budget - total); w++) {
        const gain = (cost - height(c, w)) / (w - widths[c]!);
        if (gain > 0 && (best === null || gain > best.gain)) best = { c, w, gain };
      }
    }
    if (best === null) break;
    total += best.w - widths[best.c]!;
    widths[best.c] = best.w;
    cost = height(-1, 0);
  }
  return widths;
}

// eslint-disable-next-line no-control-regex
const ONE_STYLE = /^(\x1b\[[0-9;]*m)([^\x1b]*)(\x1b\[[0-9;]*m)$/;

/**
 * Wraps one finished line of `label   value` text to `width`: continuation lines start under the
 * value (or two columns in from the line's indent when there is no label). A line styled as a
 * whole keeps its style on every piece; a line with several styles inside is left as it is.
 */
export function fitLine(line: string, width: number): string[] {
  if (visibleLength(line) <= width) return [line];
  let text = line;
  let paint: ((t: string) => string) | undefined;
  const styled = ONE_STYLE.exec(line);
  if (styled) {
    text = styled[2] as string;
    const [open, close] = [styled[1] as string, styled[3] as string];
    paint = (t) => `${open}${t}${close}`;
  } else if (line.includes('\x1b')) {
    return [line];
  }
  const indent = /^ */.exec(text)![0];
  const label = /^ *\S+(?: \S+)? {2,}/.exec(text);
  const prefix = label && label[0].length <= 30 ? label[0] : indent;
  const hang = label && label[0].length <= 30 ? ' '.repeat(prefix.length) : `${indent}  `;
  const body = text.slice(prefix.length);
  return wrapPieces([{ text: body, ...(paint ? { style: paint } : {}) }], width, paint ? paint(prefix) : prefix, hang);
}
