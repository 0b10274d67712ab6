// SPDX-License-Identifier: AGPL-3.0-or-later
import '@lit-labs/virtualizer';
import type { LitVirtualizer } from '@lit-labs/virtualizer/LitVirtualizer.js';
import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
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

/**
 * The fleet: one row per VM with its risk, controller and every disk's effective facts, as an
 * ARIA grid whose rows are virtualized (`<lit-virtualizer>`): only the rows in view are in the
 * DOM, so 5,000 VMs cost what 30 do. A ⚑ marks a fact QEMU runs differently from the config;
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
      lit-virtualizer {
        height: var(--dp-table-height, max(320px, calc(100vh - 220px)));
        scrollbar-gutter: stable;
      }
      .row {
        border-bottom: 1px solid var(--dp-border);
        /* A row lays out and paints alone: placing or filling one does not dirty the others. */
        contain: layout paint style;
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
        padding: 3px 6px;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .num {
        text-align: right;
      }
      .disk {
        display: grid;
        grid-template-columns: 4.5em 1fr;
        gap: 0 6px;
      }
      .disk.cdrom {
        color: var(--dp-text-muted);
      }
      .dkey {
        font-weight: bold;
      }
      .pending {
        color: var(--dp-pending, #b45309);
      }
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
        color: var(--dp-text-muted);
        margin-left: 4px;
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

  /** Scrolls VM `vmid` into view and focuses its ID button (where focus returns after the details close). */
  async focusRow(vmid: number): Promise<boolean> {
    const index = this.rows.findIndex((r) => r.vm.vmid === vmid);
    if (index < 0) return false;
    return this._focusIndex(index, 'button.open');
  }

  override render() {
    const allTicked = this.rows.length > 0 && this.rows.every((r) => this.selected.has(r.vm.vmid));
    return html`<div role="grid" aria-label="Virtual machines" aria-rowcount=${this.rows.length + 1} aria-colcount=${COLUMNS.length + 1}>
      <div class="head" role="row" aria-rowindex="1">
        <div role="columnheader">
          <input type="checkbox" aria-label="Select all shown VMs" .checked=${allTicked} @change=${this._onToggleAll} />
        </div>
        ${COLUMNS.map((c) => this._header(c))}
      </div>
      <lit-virtualizer
        scroller
        role="rowgroup"
        .items=${this.rows as FleetRow[]}
        .keyFunction=${(r: FleetRow) => r.vm.vmid}
        .renderItem=${(r: FleetRow, i: number) => this._row(r, i)}
        @keydown=${this._onKeyDown}
      ></lit-virtualizer>
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

  // One template per row, from what the row precomputed (no per-row wording or element of its own):
  // a scroll frame stamps a dozen of them.
  private _row(r: FleetRow, i: number) {
    const vm = r.vm;
    return html`<div class="row" role="row" aria-rowindex=${i + 2} data-vmid=${vm.vmid} data-index=${i} aria-selected=${this.current === vm.vmid ? 'true' : 'false'}>
      <div role="gridcell">
        <input type="checkbox" aria-label=${`Select VM ${vm.vmid}`} .checked=${this.selected.has(vm.vmid)} @change=${(e: Event) => this._onTick(vm.vmid, (e.target as HTMLInputElement).checked)} />
      </div>
      <div role="gridcell" class="num"><button class="link open" @click=${() => this.dispatchEvent(new DpVmSelectEvent(vm.vmid))}>${vm.vmid}</button></div>
      <div role="gridcell">${vm.name ?? ''}${vm.template ? html`<span class="tag template">${S.template}</span>` : nothing}</div>
      <div role="gridcell">${vm.node ?? ''}</div>
      <div role="gridcell">${vm.status}${r.pendingKeys.length
          ? html`<span class="tag pending" title=${S.pendingKeysTitle(r.pendingKeys)}>${r.oursPending ? S.writtenColdStart : S.coldStartPending}</span>`
          : nothing}</div>
      <div role="gridcell">
        ${riskBadge(riskOf(vm))}${this.evidencePending && r.preliminary !== false ? html`<div class="evidence-pending">${S.configOnly}</div>` : nothing}
      </div>
      <div role="gridcell">${r.controller}${r.controllerPending !== null ? html`<div class="pending">${r.controllerPending}</div>` : nothing}</div>
      <div role="gridcell">${r.disks.map((d) => this._disk(d))}</div>
    </div>`;
  }

  private _disk(d: DiskLine) {
    return html`<div class=${d.cdrom ? 'disk cdrom' : 'disk'} title=${d.title}>
      <span class="dkey">${d.key}</span>
      <div>
        <div class=${d.deleted ? 'deleted' : ''}>${d.current}</div>
        ${d.pending !== null ? html`<div class="pending">${d.pending}</div>` : nothing}
        ${d.marks.map((m) => html`<div class="mark" title=${S.diffMark}>⚑ ${m}</div>`)}
      </div>
    </div>`;
  }

  private get _virtualizer(): LitVirtualizer<FleetRow> | null {
    return this.renderRoot.querySelector('lit-virtualizer') as LitVirtualizer<FleetRow> | null;
  }

  private async _focusIndex(index: number, selector: string): Promise<boolean> {
    const v = this._virtualizer;
    if (!v) return false;
    const inDom = v.querySelector(`.row[data-index="${index}"]`);
    // A row out of view is not in the DOM: the virtualizer scrolls to it and renders it first.
    if (inDom) inDom.scrollIntoView({ block: 'nearest' });
    else {
      await v.layoutComplete?.catch(() => {});
      // NOTE: the virtualizer throws when asked before its first layout (no layout object yet).
      try {
        v.element(index)?.scrollIntoView({ block: 'nearest' });
      } catch {
        return false;
      }
    }
    for (let tries = 0; tries < 10 && this.isConnected; tries++) {
      const row = v.querySelector(`.row[data-index="${index}"]`);
      const target = row?.querySelector<HTMLElement>(selector);
      if (target) {
        target.focus();
        return true;
      }
      await new Promise((r) => requestAnimationFrame(r));
    }
    return false;
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
