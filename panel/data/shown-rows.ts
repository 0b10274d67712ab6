// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The rows a query shows, recomputed only as far as a change needs: the fleet stays sorted until
 * the rows or the sort change, so a keystroke is one filter pass in that order (no sort of 5,000
 * rows); a text that extends the last one filters only the rows the last one showed; an unchanged
 * filter hands back the same array (the grid does not re-render).
 */
import { type FleetQuery, type FleetRow, filterRows, sortRows } from './fleet-query.js';

export class ShownRows {
  private _sorted: FleetRow[] = [];
  private _sortedFor: { rows: readonly FleetRow[] | null; version: unknown; key: string; dir: string } = { rows: null, version: undefined, key: '', dir: '' };
  private _last: { text: string; node: string; risk: string; quick: string; rows: FleetRow[] } | null = null;

  /**
   * Rows of `rows` that `q` shows, in its sort order. `version` changes whenever `rows` changed
   * in place (rows added, a risk reassessed).
   */
  get(rows: readonly FleetRow[], version: unknown, q: FleetQuery): FleetRow[] {
    const s = this._sortedFor;
    if (s.rows !== rows || s.version !== version || s.key !== q.sort.key || s.dir !== q.sort.dir) {
      this._sorted = sortRows([...rows], q.sort);
      this._sortedFor = { rows, version, key: q.sort.key, dir: q.sort.dir };
      this._last = null;
    }
    const text = q.text.trim().toLowerCase();
    const quick = q.quick.join();
    const last = this._last;
    const sameOthers = last !== null && last.node === q.node && last.risk === q.risk && last.quick === quick;
    if (sameOthers && last.text === text) return last.rows;
    // Every row containing "db1" contains "db": the rows "db" showed are all there is to search.
    const from = sameOthers && text.includes(last.text) ? last.rows : this._sorted;
    const shown = filterRows(from, q);
    this._last = { text, node: q.node, risk: q.risk, quick, rows: shown };
    return shown;
  }
}
