// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Windowing for a list whose row heights are known from the data (lines per row × a fixed line
 * height): the rows' offsets are a prefix sum, the rows in view a binary search, and nothing is
 * measured. A generic virtualizer measures every row it places (getBoundingClientRect and
 * getComputedStyle per child) and lays them out again from its ResizeObserver; at 5,000 VMs that
 * was most of a scroll frame, and adding rows from inside its ResizeObserver callback made the PVE
 * UI tab report "ResizeObserver loop completed with undelivered notifications". Here only the
 * scroller's own box is observed, and its height comes from CSS, never from its rows.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Row offsets (px) from row heights (px): `top(i)`, `total`, and the rows a band of the list shows. */
export class RowOffsets {
  /** `tops[i]` is row i's top; `tops[n]` the list's height. */
  private readonly tops: Float64Array;

  constructor(heights: ArrayLike<number>) {
    const n = heights.length;
    this.tops = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) this.tops[i + 1] = this.tops[i]! + heights[i]!;
  }

  get count(): number {
    return this.tops.length - 1;
  }

  get total(): number {
    return this.tops[this.tops.length - 1]!;
  }

  top(i: number): number {
    return this.tops[i]!;
  }

  height(i: number): number {
    return this.tops[i + 1]! - this.tops[i]!;
  }

  /** The row at offset `y` (the last row for `y` past the end; 0 for an empty list). */
  indexAt(y: number): number {
    let lo = 0;
    let hi = this.count - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tops[mid]! <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Rows `[start, end)` that intersect `[from, to)` (px). */
  range(from: number, to: number): { start: number; end: number } {
    if (this.count === 0 || to <= from) return { start: 0, end: 0 };
    const start = this.indexAt(Math.max(0, from));
    let end = this.indexAt(to) + 1;
    // `to` on a row's top edge: that row is not in the band.
    if (end - 1 > start && this.tops[end - 1]! >= to) end--;
    return { start, end: Math.min(end, this.count) };
  }
}

export interface RowWindowOptions {
  /** Pixels rendered above and below the view, so a fast scroll shows rows rather than blank. */
  overhang: number;
}

/**
 * Tracks a scroller's scroll position and height and tells its host which rows to render. The
 * host calls `attach(scroller)` once it has rendered the scroller, `setOffsets` when the rows or
 * their heights change, and `range()` in render.
 */
export class RowWindowController implements ReactiveController {
  private _scroller: HTMLElement | null = null;
  private _offsets = new RowOffsets([]);
  private _scrollTop = 0;
  /** Until the scroller is measured, assume it is as tall as the window (never too few rows). */
  private _viewport = typeof window === 'undefined' ? 1000 : window.innerHeight;
  private _last = { start: 0, end: 0 };
  /** Render the rows in view only (see `setOffsets`). */
  private _lean = false;
  private readonly _resize = new ResizeObserver((entries) => {
    const h = entries[entries.length - 1]!.contentRect.height;
    // Hidden (an inactive PVE tab): keep the last height rather than render nothing.
    if (h > 0 && h !== this._viewport) {
      this._viewport = h;
      this._changed();
    }
  });
  private readonly _onScroll = (): void => {
    this._lean = false;
    this._scrollTop = this._scroller!.scrollTop;
    this._changed();
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: RowWindowOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    if (this._scroller) this._listen(this._scroller);
  }

  hostDisconnected(): void {
    if (this._scroller) this._unlisten(this._scroller);
  }

  /** The element that scrolls (rendered by the host). */
  attach(scroller: HTMLElement): void {
    if (scroller === this._scroller) return;
    if (this._scroller) this._unlisten(this._scroller);
    this._scroller = scroller;
    this._scrollTop = scroller.scrollTop;
    // Once, at the first render: the rows of the next render fit the view, not the window.
    const h = scroller.clientHeight;
    if (h > 0 && h !== this._viewport) {
      this._viewport = h;
      this._changed();
    }
    this._listen(scroller);
  }

  get offsets(): RowOffsets {
    return this._offsets;
  }

  /**
   * New rows (a keystroke in the filter, a sort): the next render holds only the rows in view, so
   * the frame the user waits for lays out no more than it shows; the overhang follows in a task
   * after that frame is drawn (or at the first scroll).
   */
  setOffsets(offsets: RowOffsets): void {
    this._offsets = offsets;
    if (this._lean || typeof requestAnimationFrame === 'undefined') return;
    this._lean = true;
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (!this._lean) return;
        this._lean = false;
        this._changed();
      }, 0),
    );
  }

  /** Rows to render now: those in view plus the overhang. */
  range(): { start: number; end: number } {
    this._last = this._band();
    return this._last;
  }

  /** Scrolls the least needed to show row `i` whole, and renders it now. */
  reveal(i: number): void {
    const s = this._scroller;
    if (!s || i < 0 || i >= this._offsets.count) return;
    const top = this._offsets.top(i);
    const bottom = top + this._offsets.height(i);
    const view = s.clientHeight || this._viewport;
    if (top < s.scrollTop) s.scrollTop = top;
    else if (bottom > s.scrollTop + view) s.scrollTop = bottom - view;
    this._onScroll();
  }

  private _band(): { start: number; end: number } {
    const o = this._offsets;
    // The list got shorter (a filter): the browser clamps the scroll position at its next
    // layout; the rows are those the clamped position shows, not none.
    const top = Math.max(0, Math.min(this._scrollTop, o.total - this._viewport));
    const overhang = this._lean ? 0 : this.options.overhang;
    return o.range(top - overhang, top + this._viewport + overhang);
  }

  private _changed(): void {
    const next = this._band();
    if (next.start !== this._last.start || next.end !== this._last.end) this.host.requestUpdate();
  }

  private _listen(s: HTMLElement): void {
    s.addEventListener('scroll', this._onScroll, { passive: true });
    this._resize.observe(s);
  }

  private _unlisten(s: HTMLElement): void {
    s.removeEventListener('scroll', this._onScroll);
    this._resize.unobserve(s);
  }
}
