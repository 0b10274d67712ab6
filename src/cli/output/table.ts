// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The default audit output: one block per VM, one row per disk. Values that differ from what the
 * config suggests are marked; pending facts read `now → after cold start`.
 */
import type { AuditReport, DiskFacts, DiskReport, RiskLevel, VmReport } from '../../analysis/types.js';
import { type Cell, aioCell, cacheCell, controllerCell, deviceCell, iothreadCell, startErrorLines, unknownCell } from '../../present/disk-facts.js';
import { deviationText, findDeviation } from '../../present/deviations.js';
import { escapeControl } from './issues.js';
import { type Piece, cellLines, fitColumns, longestWord, oneLine, wrapPieces } from './layout.js';
import { type RiskSummary, riskSummary, riskTotals } from './risk.js';
import { type Style, makeStyle, padEnd, visibleLength } from './style.js';

const HEADERS = ['DISK', 'VOLUME', 'DEVICE', 'CONTROLLER', 'IOTHREAD', 'AIO', 'CACHE'] as const;

interface FactColumn {
  cell(f: DiskFacts, cache: string | null): Cell;
  /** Text for the after-cold-start side (the pending drive's cache mode is not part of the facts). */
  next(f: DiskFacts): string;
}

const simple = (cell: (f: DiskFacts) => Cell): FactColumn => ({ cell, next: (f) => cell(f).text });
const FACT_COLUMNS: FactColumn[] = [
  simple(deviceCell),
  simple(controllerCell),
  simple(iothreadCell),
  simple(aioCell),
  {
    cell: cacheCell,
    next: (f) => unknownCell(f, 'cacheDirect')?.text ?? (f.qemuDevice === null || f.cacheDirect === null ? '—' : f.cacheDirect ? 'direct' : 'not direct'),
  },
];

interface Row {
  /** One list of styled pieces per column. */
  cells: Piece[][];
  /** Lines printed under the row (start errors, why a disk is not attached). */
  extra: Piece[];
}

/**
 * One-piece cells, shared by every row of a table that shows the same text (most cells repeat from
 * VM to VM: `ide-cd`, `io_uring`, `off`): 5,000 VMs keep a few hundred cells alive instead of
 * 100,000, and the table wraps each once. Per style, i.e. per table (makeStyle makes a new one).
 */
const SHARED_CELLS = new WeakMap<Style, SharedCells>();
/** Every cell of SHARED_CELLS: the table wraps each of them once. */
const SHARED = new WeakSet<Piece[]>();

/** One-piece cells by their text: plain, and marked. */
interface SharedCells {
  plain: Map<string, Piece[]>;
  marked: Map<string, Piece[]>;
}

function sharedCells(style: Style): SharedCells {
  let cells = SHARED_CELLS.get(style);
  if (cells === undefined) SHARED_CELLS.set(style, (cells = { plain: new Map(), marked: new Map() }));
  return cells;
}

/** The one-piece cell of `text` (marked or not) in `cells`: shared, read it only. */
function oneCell(cells: SharedCells, text: string, marked: boolean, style: Style): Piece[] {
  const byText = marked ? cells.marked : cells.plain;
  let cell = byText.get(text);
  if (cell === undefined) {
    byText.set(text, (cell = [marked ? { text, style: style.marked } : { text }]));
    SHARED.add(cell);
  }
  return cell;
}

function piece(cell: Cell, style: Style): Piece {
  return cell.marked ? { text: cell.text, style: style.marked } : { text: cell.text };
}

function diskRow(d: DiskReport, style: Style): Row {
  const shared = sharedCells(style);
  const extra: Piece[] = [];
  const cells: Piece[][] = [d.onlyPending ? [{ text: d.key }, { text: '(new)' }] : oneCell(shared, d.key, false, style), [{ text: d.volume }]];
  const pending = d.pending && !('deleted' in d.pending) ? d.pending : null;
  for (const column of FACT_COLUMNS) {
    const now = column.cell(d, d.cache);
    if (!pending) {
      cells.push(oneCell(shared, now.text, now.marked, style));
    } else if (d.onlyPending) {
      cells.push([{ text: `→ ${column.next(pending)}`, style: style.pending }]);
    } else if (column.next(d) === column.next(pending)) {
      cells.push(oneCell(shared, now.text, now.marked, style));
    } else {
      cells.push([piece(now, style), { text: `→ ${column.next(pending)}`, style: style.pending }]);
    }
  }
  if (d.pending && 'deleted' in d.pending) extra.push({ text: '→ removed at the next cold start', style: style.pending });
  if (!d.onlyPending && d.qemuDevice === null && !unknownCell(d, 'qemuDevice')) {
    const why = findDeviation(d, 'not-attached');
    if (why) extra.push({ text: `! ${deviationText(why)}`, style: style.marked });
  }
  for (const line of startErrorLines(d, pending)) extra.push({ text: `✗ ${line}`, style: style.error });
  return { cells, extra };
}

/** The parts of a VM's header line (each a list of pieces), before they are joined. */
function headerParts(vm: VmReport, style: Style): Piece[][] {
  const parts: Piece[][] = [[{ text: `VM ${vm.vmid}${vm.name ? ` ${vm.name}` : ''}`, style: style.bold }]];
  parts.push([{ text: vm.node ? `node ${vm.node}` : 'node ?' }]);
  // Offline the files do not say whether the VM runs; a bare "unknown" reads like the risk level.
  parts.push([{ text: vm.status === 'unknown' ? (vm.source === 'api' ? 'run state unknown' : 'run state unknown (files only)') : vm.status }]);
  if (vm.template) parts.push([{ text: 'template', style: style.marked }]);
  if (vm.lock) parts.push([{ text: `lock ${vm.lock}`, style: style.marked }]);
  const scsihw: Piece[] = [{ text: `scsihw ${vm.scsihw.effective}${vm.scsihw.configured === null ? ' (default)' : ''}` }];
  if (vm.scsihw.pending) scsihw.push({ text: `→ ${vm.scsihw.pending.effective}`, style: style.pending });
  parts.push(scsihw);
  const machine: Piece[] = [{ text: `${vm.machine.type} ${vm.machine.version} ${vm.machine.blockdev ? '-blockdev' : '-drive'}` }];
  if (vm.machine.pending) {
    const p = vm.machine.pending;
    machine.push({ text: `→ ${p.type} ${p.version} ${p.blockdev ? '-blockdev' : '-drive'}`, style: style.pending });
  }
  parts.push(machine);
  const problems = vm.issues.length;
  if (problems > 0) parts.push([{ text: `${problems} config issue${problems === 1 ? '' : 's'} (on stderr)`, style: style.marked }]);
  return parts;
}

/**
 * The header line(s) of a VM at `width`. Most headers fit on one line: then the parts are joined
 * as they are (splitting a part before its first word, for the wrap, would give the same line).
 */
function vmHeaderLines(vm: VmReport, style: Style, width: number): string[] {
  const parts = headerParts(vm, style);
  const flat: Piece[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) flat.push(SEPARATOR);
    for (const p of parts[i]!) flat.push(p);
  }
  const line = oneLine(flat, width, '');
  if (line !== null) return [line];
  const out: Piece[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out.push(SEPARATOR);
    whole(parts[i]!, out);
  }
  return wrapPieces(out, width, '', HEADER_NEXT);
}

/** Indent of a header's wrapped lines. */
const HEADER_NEXT = '    ';

/** Between two header parts (never at the start of a line). */
const SEPARATOR: Piece = { text: '·', glue: true };

/** Longest header part kept on one line (longer ones wrap inside, so the width holds). */
const WHOLE_PART = 40;

/** A header part that wraps only before its first word (`i440fx 11.0+pve2 -blockdev` stays together), onto `out`. */
function whole(part: Piece[], out: Piece[]): void {
  const head = part[0];
  let length = 0;
  for (const p of part) length += p.text.length + 1;
  if (!head || length > WHOLE_PART) {
    for (const p of part) out.push(p);
    return;
  }
  const space = head.text.indexOf(' ');
  if (space < 0) out.push(head);
  else out.push({ ...head, text: head.text.slice(0, space) }, { ...head, text: head.text.slice(space + 1), glue: true });
  for (let i = 1; i < part.length; i++) out.push({ ...part[i]!, glue: true });
}

/** Indent of the lines under a VM's header. */
const INDENT = '  ';

/** Columns never get narrower than this unless a word is shorter (longer words are broken). */
const MIN_COLUMN = 16;


/**
 * A disk as `key: value` lines (the disk, then one fact per line, then its notes), for terminals
 * too narrow for the columns.
 */
function stackedRow(row: Row, width: number, indent: string): string[] {
  const [disk, ...facts] = row.cells;
  const out = wrapPieces(disk ?? [], width, `${indent}disk: `, `${indent}  `);
  const inner = `${indent}  `;
  facts.forEach((cell, i) => {
    const prefix = `${inner}${(HEADERS[i + 1] as string).toLowerCase()}: `;
    out.push(...wrapPieces(cell, width, prefix, `${inner}  `));
  });
  for (const extra of row.extra) out.push(...wrapPieces([extra], width, inner, `${inner}  `));
  return out;
}

/**
 * `cellLines` of a cell in column `c` at `widths[c]`, worked out once per distinct cell of a
 * column: most cells repeat from VM to VM (`ide-cd`, `default → not direct (cdrom)`). The lines
 * given out are shared: read them only.
 */
function cellLinesOnce(widths: readonly number[]): (cell: Piece[], c: number) => string[] {
  const styles = new Map<Piece['style'], number>();
  const seen = widths.map(() => new Map<string, string[]>());
  // Shared cells (oneCell) are the same object in every row that shows them.
  const seenCells = widths.map(() => new Map<Piece[], string[]>());
  return (cell, c) => {
    const byCell = seenCells[c] as Map<Piece[], string[]>;
    let lines = byCell.get(cell);
    if (lines !== undefined) return lines;
    // One piece that fits: no wrapping to save, only its painting when it is shared.
    if (cell.length === 1 && cell[0]!.text.length <= (widths[c] as number)) {
      lines = cellLines(cell, widths[c] as number);
      if (SHARED.has(cell)) byCell.set(cell, lines);
      return lines;
    }
    let key = '';
    for (const p of cell) {
      let id = styles.get(p.style);
      if (id === undefined) styles.set(p.style, (id = styles.size));
      key += `${p.text}\u0000${id}${p.glue ? '+' : ''}\u0001`;
    }
    const memo = seen[c] as Map<string, string[]>;
    lines = memo.get(key);
    if (lines === undefined) memo.set(key, (lines = cellLines(cell, widths[c] as number)));
    if (SHARED.has(cell)) byCell.set(cell, lines);
    return lines;
  };
}

/** Config files (offline) or VM paths (online) that errors kept out of the report. */
function notAudited(report: Pick<AuditReport, 'errors'>): string[] {
  const sources = report.errors
    .filter((e) => e.severity === 'error' && e.source !== undefined && /(?:\.conf|\/qemu\/\d+)$/.test(e.source))
    .map((e) => escapeControl(e.source as string));
  return [...new Set(sources)];
}

/**
 * What the table prints of one VM: made from its report, which need not be kept. Its header and
 * risk lines are final (they depend on the width only); its rows wait for the column widths,
 * which depend on every row of the table.
 */
export interface TableBlock {
  /** The header line(s) and the risk line(s), wrapped. */
  head: string[];
  level: RiskLevel | null;
  rows: Row[];
}

/**
 * The block of one VM, painted with `style` (makeStyle; the same for every block of a table), its
 * header wrapped at `width` (the table's; default: no limit).
 */
export function tableBlock(vm: VmReport, style: Style, width = Infinity): TableBlock {
  const head = vmHeaderLines(vm, style, width);
  const risk = riskSummary(vm, style);
  if (risk) for (const line of riskLines(risk, style, width)) head.push(line);
  return { head, level: vm.risk?.level ?? null, rows: vm.disks.map((d) => diskRow(d, style)) };
}

/** Wrapped risk lines by their text, per style (i.e. per table): most VMs repeat another's line. */
const RISK_LINES = new WeakMap<Style, Map<string, string[]>>();

/** The risk line(s) of a VM, wrapped at `width`; shared, read them only. */
function riskLines(risk: RiskSummary, style: Style, width: number): string[] {
  let seen = RISK_LINES.get(style);
  if (seen === undefined) RISK_LINES.set(style, (seen = new Map()));
  // The pieces' texts and styles (riskSummary paints with bold and dim only).
  let key = `${width}\u0000${risk.head}`;
  for (const p of risk.body) {
    const id = p.style === undefined ? '' : p.style === style.bold ? 'b' : p.style === style.dim ? 'd' : null;
    if (id === null) return wrapRisk(risk, width);
    key += `\u0000${id}\u0001${p.text}`;
  }
  let lines = seen.get(key);
  if (lines === undefined) seen.set(key, (lines = wrapRisk(risk, width)));
  return lines;
}

function wrapRisk(risk: RiskSummary, width: number): string[] {
  const lead = `${INDENT}${risk.head}${risk.body.length > 0 ? '  ' : ''}`;
  return wrapPieces(risk.body, width, lead, ' '.repeat(visibleLength(lead)));
}

/**
 * Every row's cells, in the order they are printed, and each column's minimum width: its header,
 * or its longest word up to `wordLimit`. (Loops of renderTable are functions of their own, so
 * each is optimised on its own, not renderTable as a whole from the middle of its first loop.)
 */
function tableRows(blocks: readonly TableBlock[], wordLimit: number): { allRows: Piece[][][]; minimum: number[] } {
  const minimum: number[] = HEADERS.map((h) => h.length);
  const allRows: Piece[][][] = [];
  // A shared cell's longest word is worked out once.
  const longest = new Map<Piece[], number>();
  for (const { rows } of blocks) {
    for (const row of rows) {
      allRows.push(row.cells);
      for (let i = 0; i < row.cells.length; i++) {
        const c = row.cells[i]!;
        let word = longest.get(c);
        if (word === undefined) {
          word = longestWord(c);
          if (SHARED.has(c)) longest.set(c, word);
        }
        if (word > wordLimit) word = wordLimit;
        if (word > (minimum[i] as number)) minimum[i] = word;
      }
    }
  }
  return { allRows, minimum };
}

/**
 * Each row's cells as lines at `widths`, made once for the check and the printing (in the order of
 * `allRows`), and whether they fit: below some width the columns cannot hold their cells (a line
 * wider than its column shifts every column after it), and the table prints one fact per line.
 */
function wrapRows(allRows: Piece[][][], widths: number[], budget: number): { wrapped: string[][][]; fits: boolean } {
  const wrapped: string[][][] = [];
  const linesOf = cellLinesOnce(widths);
  let fits = widths.reduce((a, b) => a + b, 0) <= budget;
  // Lines given out for shared cells are the same array in every row: checked once per column.
  const checked = widths.map(() => new Set<string[]>());
  for (const cells of allRows) {
    const columns = cells.map(linesOf);
    wrapped.push(columns);
    for (let i = 0; fits && i < columns.length; i++) {
      const lines = columns[i]!;
      const seen = checked[i]!;
      if (seen.has(lines)) continue;
      for (const l of lines) if (visibleLength(l) > (widths[i] as number)) fits = false;
      seen.add(lines);
    }
  }
  return { wrapped, fits };
}

/**
 * Renders the whole report as text (ends with a newline). `width`: the terminal width to fit
 * (cells wrap inside their column, long lines wrap with an indent; nothing is cut); default: no limit.
 */
export function formatTable(report: AuditReport, opts: { color: boolean; width?: number }): string {
  const style = makeStyle(opts.color);
  return renderTable(
    report,
    report.vms.map((vm) => tableBlock(vm, style, opts.width)),
    style,
    opts.width,
  );
}

/** {@link formatTable} from the VMs' blocks (the VMs themselves already dropped), with their style. */
export function renderTable(report: Omit<AuditReport, 'vms'>, blocks: readonly TableBlock[], style: Style, width = Infinity): string {
  return renderTableLines(report, blocks, style, width).join('\n') + '\n';
}

/**
 * {@link renderTable}'s lines, without their newlines: a writer that joins a few hundred at a time
 * never makes the whole text into one string (6.7 MB for 5,000 VMs, two-byte since `→` is in it).
 */
export function renderTableLines(report: Omit<AuditReport, 'vms'>, blocks: readonly TableBlock[], style: Style, width = Infinity): string[] {
  const headers: Piece[][] = HEADERS.map((h) => [{ text: h }]);
  const indent = INDENT;
  const gap = '  ';
  const budget = width - indent.length - gap.length * (HEADERS.length - 1);
  // Longer words are broken (at '/', ':', '-', ...) rather than widening a column past this.
  const wordLimit = Math.max(6, Math.min(MIN_COLUMN, Math.floor(budget / HEADERS.length)));
  const { allRows, minimum } = tableRows(blocks, wordLimit);
  const widths = fitColumns(allRows, minimum, budget);
  const { wrapped, fits } = wrapRows(allRows, widths, budget);
  // Each column's lines padded to its width, with the gap: made once per distinct text (most
  // cells repeat from row to row).
  const padded = widths.map(() => new Map<string, string>());
  const paddedCell = (text: string, i: number): string => {
    const memo = padded[i]!;
    let out = memo.get(text);
    if (out === undefined) memo.set(text, (out = padEnd(text, widths[i] as number) + gap));
    return out;
  };
  const rowLines = (columns: string[][], paint?: (t: string) => string): string[] => {
    let height = 0;
    for (const c of columns) if (c.length > height) height = c.length;
    const out: string[] = [];
    const last = columns.length - 1;
    for (let l = 0; l < height; l++) {
      let text = indent;
      for (let i = 0; i < last; i++) text += paddedCell(columns[i]![l] ?? '', i);
      text = (text + (columns[last]?.[l] ?? '')).trimEnd();
      out.push(paint ? paint(text) : text);
    }
    return out;
  };
  const headerLines = headers.map((c, i) => cellLines(c, widths[i] as number));
  // The column headers are the same above every VM's disks.
  const columnHeader = rowLines(headerLines, style.dim);
  let rowIndex = 0;
  const extraIndent = ' '.repeat(indent.length + (widths[0] as number) + gap.length);

  const out: string[] = [];
  for (const { head, rows } of blocks) {
    for (const line of head) out.push(line);
    if (rows.length === 0) {
      out.push(style.dim(`${indent}(no disks on a controller)`));
    } else if (!fits) {
      for (const row of rows) out.push(...stackedRow(row, width, indent));
    } else {
      for (const line of columnHeader) out.push(line);
      for (const row of rows) {
        for (const line of rowLines(wrapped[rowIndex++] as string[][])) out.push(line);
        for (const extra of row.extra) for (const line of wrapPieces([extra], width, extraIndent, `${extraIndent}  `)) out.push(line);
      }
    }
    out.push('');
  }
  const totals = riskTotals(blocks.map((b) => b.level));
  if (totals) out.push(...wrapPieces([{ text: totals }], width, '', '  '));
  const missing = notAudited(report);
  if (missing.length > 0) {
    const text = `not audited: ${missing.length} VM config${missing.length === 1 ? '' : 's'} (errors on stderr): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`;
    for (const line of wrapPieces([{ text, style: style.error }], width, '', '  ')) out.push(line);
  }
  for (const a of report.assumptions) for (const line of wrapPieces([{ text: `note: ${a}`, style: style.dim }], width, '', '  ')) out.push(line);
  if (blocks.length > 0) out.push(...wrapPieces([{ text: 'details of one VM: pve-dataplane audit … --explain VMID', style: style.dim }], width, '', '  '));
  return out;
}
