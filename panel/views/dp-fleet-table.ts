// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, type PropertyValues, css, html, nothing, unsafeCSS } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { RowOffsets, RowWindowController } from '../controllers/row-window.js';
import { DpSelectionChangeEvent, DpSortChangeEvent, DpVmSelectEvent } from '../events.js';
import { type DiskLine, riskOf } from '../data/filter.js';
import { DEFAULT_SORT, type FleetRow, type FleetSort, type SortKey } from '../data/fleet-query.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';
import { riskBadge, riskBadgeStyles } from '../components/risk-icon.js';

interface Column {
  key: SortKey | null;
  label: string;
}

const COLUMNS: Column[] = [
  { key: 'vmid', label: 'ID' },
  { key: 'name', label: 'Name' },
  { key: 'node', label: 'Node' },
  { key: 'status', label: 'Status' },
  { key: 'risk', label: 'Risk' },
  { key: 'controller', label: 'SCSI Controller' },
  { key: null, label: 'Disks (effective: device on controller, IO thread, async IO)' },
];

/** Every line of a row is this tall (px): a row's height follows from its data, never measured. */
const LINE_PX = 17;
/** A cell's padding above and below (px), and the row's bottom border (px). */
const CELL_PAD_PX = 3;
const BORDER_PX = 1;
/** Rows rendered beyond the view on each side (px): a fast wheel scroll shows rows, not blank. */
const OVERHANG_PX = 200;

/** Lines of a row's disks (a row's disks never change; each keystroke sums every shown row's lines). */
const DISK_LINES = new WeakMap<readonly DiskLine[], number>();

/**
 * Lines row `r` takes: its tallest cell. Each cell's first line is its value; a tag, a pending
 * value, a "config only" note, a disk, a disk's pending facts and each ⚑ mark take one line
 * each. Lines never wrap (ellipsis, full text in the title), so this is the row's height.
 * Must agree with `_row` and `_disk`.
 */
export function rowLines(r: FleetRow, evidencePending: boolean): number {
  let disks = DISK_LINES.get(r.disks);
  if (disks === undefined) {
    disks = 0;
    for (const d of r.disks) disks += 1 + (d.pending !== null ? 1 : 0) + d.marks.length;
    DISK_LINES.set(r.disks, disks);
  }
  const two = r.vm.template || r.pendingKeys.length > 0 || r.controllerPending !== null || (evidencePending && r.preliminary !== false);
  return Math.max(disks, two ? 2 : 1);
}

/** A row's height (px) for `lines` lines. */
export const rowHeight = (lines: number): number => lines * LINE_PX + 2 * CELL_PAD_PX + BORDER_PX;

/**
 * The fleet: one row per VM with its risk, controller and every disk's effective facts, as an
 * ARIA grid whose rows are windowed (`RowWindowController`): only the rows in view are in the
 * DOM, so 5,000 VMs cost what 30 do. Each row's height follows from its lines (`rowLines`), so
 * scrolling measures nothing; rows are kept by VMID while they stay in the window. A ⚑ marks a fact QEMU runs differently from the config;
 * pending values show below the current one in dark orange and deletions struck through, as in
 * PVE. Arrow keys move between rows, Enter opens a VM, Space ticks it.
 * @fires dp-vm-select - the user opened a VM's details
 * @fires dp-selection-change - the user ticked or unticked VMs
 * @fires dp-sort-change - the user clicked a column header
 */
@customElement('dp-fleet-table')
export class DpFleetTable extends LitElement {
  static override styles = [
    shared,
    riskBadgeStyles,
    css`
      :host {
        display: block;
        border: 1px solid var(--dp-border);
        background: var(--dp-panel-bg);
        --dp-cols: 30px 70px minmax(90px, 1fr) 70px 110px 100px 150px minmax(240px, 3fr);
        /* Narrower than its columns (PVE's content pane on a laptop): the grid scrolls sideways,
           head and rows together, instead of cutting off the disks. */
        overflow-x: auto;
      }
      .head,
      .body {
        /* The columns' minimum widths (860 px) and the body's scrollbar gutter. */
        min-width: 880px;
      }
      .head,
      .row {
        display: grid;
        grid-template-columns: var(--dp-cols);
        width: 100%;
        box-sizing: border-box;
      }
      .head {
        background: var(--dp-header-bg);
        border-bottom: 1px solid var(--dp-border);
        font-weight: bold;
        scrollbar-gutter: stable;
        overflow: hidden;
      }
      .head > div {
        padding: 4px 6px;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .head button {
        all: unset;
        cursor: pointer;
        font-weight: bold;
      }
      .head button:focus-visible {
        outline: 2px solid var(--dp-primary);
      }
      .arrow {
        color: var(--dp-text-muted);
        font-size: 11px;
      }
      .body {
        height: var(--dp-table-height, max(320px, calc(100vh - 220px)));
        overflow-y: auto;
        scrollbar-gutter: stable;
        position: relative;
        /* Its height is from CSS, never from its rows: rows come and go without a layout outside. */
        contain: strict;
      }
      .sizer {
        width: 1px;
      }
      .row {
        position: absolute;
        left: 0;
        right: 0;
        border-bottom: ${unsafeCSS(BORDER_PX)}px solid var(--dp-border);
        line-height: ${unsafeCSS(LINE_PX)}px;
        white-space: nowrap;
        /* Its size is set from its lines: a row lays out and paints alone, placing or filling one
           does not dirty the others. */
        contain: strict;
      }
      .row:hover {
        background: var(--dp-row-hover);
      }
      .row[aria-selected='true'] {
        background: var(--dp-row-selected);
      }
      .row:focus-within {
        outline: 1px dotted var(--dp-primary);
        outline-offset: -1px;
      }
      .row > div {
        padding: ${unsafeCSS(CELL_PAD_PX)}px 6px;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      /* One line each: no wrapping, so the row's height is known from its lines. */
      .row > div > div {
        height: ${unsafeCSS(LINE_PX)}px;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .row input[type='checkbox'] {
        margin: 2px 4px;
        height: 13px;
      }
      .num {
        text-align: right;
      }
      .dl.cdrom {
        color: var(--dp-text-muted);
      }
      .dkey {
        display: inline-block;
        width: 4.5em;
        margin-right: 6px;
        font-weight: bold;
        vertical-align: top;
      }
      /* A disk's pending facts and marks line up under its facts. */
      .dl.sub {
        padding-left: calc(4.5em + 6px);
      }
      .pending {
        color: var(--dp-pending, #b45309);
      }
      /* A disk deleted in [PENDING]: its facts struck through (the key, an inline-block, is not). */
      .deleted {
        text-decoration: line-through;
      }
      .mark {
        color: var(--dp-mark, #c0392b);
        font-size: 12px;
      }
      .tag {
        display: inline-block;
        border: 1px solid var(--dp-border);
        border-radius: 3px;
        padding: 0 4px;
        font-size: 11px;
        line-height: 13px;
        color: var(--dp-text-muted);
      }
      .tag.pending {
        border-color: currentColor;
        color: var(--dp-pending, #b45309);
      }
      .evidence-pending {
        color: var(--dp-text-muted);
        font-size: 11px;
      }
    `,
  ];

  /** Rows shown (already filtered and sorted). */
  @property({ attribute: false }) rows: readonly FleetRow[] = [];
  /** VMIDs ticked for the plan preview. */
  @property({ attribute: false }) selected: ReadonlySet<number> = new Set();
  /** VMID whose details are open. */
  @property({ type: Number }) current: number | null = null;
  /** The sort shown in the headers (`aria-sort`). */
  @property({ attribute: false }) sort: FleetSort = DEFAULT_SORT;
  /** The risk still lacks the online evidence (syslog, IO load, backups): rows not yet reassessed (`preliminary` not false) are marked. */
  @property({ type: Boolean }) evidencePending = false;

  /** Back to the first row: a new filter or sort lists from its top, not from where the old list was scrolled. */
  scrollToTop(): void {
    const body = this.renderRoot.querySelector<HTMLElement>('.body');
    if (body) body.scrollTop = 0;
  }

  /** Scrolls VM `vmid` into view and focuses its ID button (where focus returns after the details close). */
  async focusRow(vmid: number): Promise<boolean> {
    const index = this.rows.findIndex((r) => r.vm.vmid === vmid);
    if (index < 0) return false;
    return this._focusIndex(index, 'button.open');
  }

  override render() {
    const allTicked = this.rows.length > 0 && this.rows.every((r) => this.selected.has(r.vm.vmid));
    const offsets = this._window.offsets;
    const { start, end } = this._window.range();
    return html`<div role="grid" aria-label="Virtual machines" aria-rowcount=${this.rows.length + 1} aria-colcount=${COLUMNS.length + 1}>
      <div class="head" role="row" aria-rowindex="1">
        <div role="columnheader">
          <input type="checkbox" aria-label="Select all shown VMs" .checked=${allTicked} @change=${this._onToggleAll} />
        </div>
        ${COLUMNS.map((c) => this._header(c))}
      </div>
      <div class="body" role="rowgroup" @keydown=${this._onKeyDown} @click=${this._onBodyClick} @change=${this._onBodyChange}>
        ${repeat(this.rows.slice(start, end), (r) => r.vm.vmid, (r, j) => this._row(r, start + j))}
        <div class="sizer" aria-hidden="true" style=${`height:${offsets.total}px`}></div>
      </div>
    </div>`;
  }

  private _header(c: Column) {
    if (!c.key) return html`<div role="columnheader">${c.label}</div>`;
    const active = this.sort.key === c.key;
    const ariaSort = active ? (this.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
    return html`<div role="columnheader" aria-sort=${ariaSort} class=${c.key === 'vmid' ? 'num' : ''}>
      <button data-sort=${c.key} @click=${() => this._onSort(c.key!)}>${c.label}</button>
      ${active ? html`<span class="arrow" aria-hidden="true">${this.sort.dir === 'asc' ? '▲' : '▼'}</span>` : nothing}
    </div>`;
  }

  // One template per row, from what the row precomputed (no per-row wording, element or listener
  // of its own: clicks and ticks are handled on the body): a scroll frame stamps a dozen of them.
  // Each cell's lines are those `rowLines` counts.
  private _row(r: FleetRow, i: number) {
    const vm = r.vm;
    const offsets = this._window.offsets;
    return html`<div
      class="row"
      role="row"
      aria-rowindex=${i + 2}
      data-vmid=${vm.vmid}
      data-index=${i}
      aria-selected=${this.current === vm.vmid ? 'true' : 'false'}
      style=${`top:${offsets.top(i)}px;height:${offsets.height(i)}px`}
    >
      <div role="gridcell"><input type="checkbox" aria-label=${`Select VM ${vm.vmid}`} .checked=${this.selected.has(vm.vmid)} /></div>
      <div role="gridcell" class="num"><button class="link open">${vm.vmid}</button></div>
      <div role="gridcell" title=${vm.name ?? ''}>${vm.name ?? ''}${vm.template ? html`<div><span class="tag template">${S.template}</span></div>` : nothing}</div>
      <div role="gridcell">${vm.node ?? ''}</div>
      <div role="gridcell">${vm.status}${r.pendingKeys.length
          ? html`<div><span class="tag pending" title=${S.pendingKeysTitle(r.pendingKeys)}>${r.oursPending ? S.writtenColdStart : S.coldStartPending}</span></div>`
          : nothing}</div>
      <div role="gridcell">${riskBadge(riskOf(vm))}${this.evidencePending && r.preliminary !== false ? html`<div class="evidence-pending">${S.configOnly}</div>` : nothing}</div>
      <div role="gridcell">${r.controller}${r.controllerPending !== null ? html`<div class="pending">${r.controllerPending}</div>` : nothing}</div>
      <div role="gridcell">${r.disks.map((d) => this._disk(d))}</div>
    </div>`;
  }

  /** A disk's facts, then its pending facts and ⚑ marks, one line each, indented under the facts. */
  private _disk(d: DiskLine) {
    return html`<div class=${`dl${d.cdrom ? ' cdrom' : ''}${d.deleted ? ' deleted' : ''}`} title=${d.title}><span class="dkey">${d.key}</span>${d.current}</div>${d.pending !== null
        ? html`<div class="dl sub pending" title=${d.title}>${d.pending}</div>`
        : nothing}${d.marks.map((m) => html`<div class="dl sub mark" title=${S.diffMark}>⚑ ${m}</div>`)}`;
  }

  private readonly _window = new RowWindowController(this, { overhang: OVERHANG_PX });

  protected override firstUpdated(): void {
    this._window.attach(this.renderRoot.querySelector<HTMLElement>('.body')!);
  }

  /** Scrolls row `index` into the window, renders it, and focuses its `selector` control. */
  private async _focusIndex(index: number, selector: string): Promise<boolean> {
    this._window.reveal(index);
    for (let tries = 0; tries < 3 && this.isConnected; tries++) {
      await this.updateComplete;
      const target = this.renderRoot.querySelector<HTMLElement>(`.row[data-index="${index}"] ${selector}`);
      if (target) {
        target.focus();
        return true;
      }
      await new Promise((r) => requestAnimationFrame(r));
    }
    return false;
  }

  /** The VMID of the row `e` happened in, if any. */
  private _vmidOf(e: Event): number | null {
    const row = (e.target as HTMLElement).closest<HTMLElement>('.row');
    return row ? Number(row.dataset['vmid']) : null;
  }

  private _onBodyClick(e: Event): void {
    if (!(e.target as HTMLElement).closest('button.open')) return;
    const vmid = this._vmidOf(e);
    if (vmid !== null) this.dispatchEvent(new DpVmSelectEvent(vmid));
  }

  private _onBodyChange(e: Event): void {
    const box = e.target as HTMLInputElement;
    const vmid = this._vmidOf(e);
    if (box.type === 'checkbox' && vmid !== null) this._onTick(vmid, box.checked);
  }

  /** ↑/↓ (and Home/End) move to the same control in another row; Enter on a row opens it. */
  private _onKeyDown(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const row = target.closest<HTMLElement>('.row');
    if (!row) return;
    const index = Number(row.dataset['index']);
    const selector = target.matches('input[type=checkbox]') ? 'input[type=checkbox]' : 'button.open';
    const next =
      e.key === 'ArrowDown' ? index + 1 : e.key === 'ArrowUp' ? index - 1 : e.key === 'Home' && e.ctrlKey ? 0 : e.key === 'End' && e.ctrlKey ? this.rows.length - 1 : null;
    if (next === null || next < 0 || next >= this.rows.length) return;
    e.preventDefault();
    void this._focusIndex(next, selector);
  }

  private _onSort(key: SortKey): void {
    const dir = this.sort.key === key && this.sort.dir === 'asc' ? 'desc' : 'asc';
    this.dispatchEvent(new DpSortChangeEvent({ key, dir }));
  }

  /** Ticks as last emitted, until the owner passes them back down as `selected` (two quick clicks must both count). */
  private _ticked: ReadonlySet<number> | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('selected')) this._ticked = null;
    if (changed.has('rows') || changed.has('evidencePending')) {
      const heights = new Float64Array(this.rows.length);
      for (let i = 0; i < heights.length; i++) heights[i] = rowHeight(rowLines(this.rows[i]!, this.evidencePending));
      this._window.setOffsets(new RowOffsets(heights));
    }
  }

  private _emitTicks(next: Set<number>): void {
    this._ticked = next;
    this.dispatchEvent(new DpSelectionChangeEvent(next));
  }

  private _onTick(vmid: number, on: boolean): void {
    const next = new Set(this._ticked ?? this.selected);
    if (on) next.add(vmid);
    else next.delete(vmid);
    this._emitTicks(next);
  }

  private _onToggleAll(e: Event): void {
    const on = (e.target as HTMLInputElement).checked;
    const next = new Set(this._ticked ?? this.selected);
    for (const r of this.rows) {
      if (on) next.add(r.vm.vmid);
      else next.delete(r.vm.vmid);
    }
    this._emitTicks(next);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-fleet-table': DpFleetTable;
  }
}
