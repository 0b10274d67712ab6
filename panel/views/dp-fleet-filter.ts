// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { RiskLevel } from '../../src/analysis/types.js';
import { EMPTY_QUERY, QUICK_FILTERS, type QuickFilter } from '../data/fleet-query.js';
import { DpFilterChangeEvent, type FleetFilter } from '../events.js';
import { QUICK_LABEL, RISK_LABEL, RISK_ORDER, S } from '../strings.js';
import { shared } from '../styles/shared.js';

/**
 * Node, risk level, text and quick filters of the fleet table. The text field filters at most once
 * per display frame: a keystroke filters at once (its rows are in the DOM before the next frame
 * draws, and that frame only lays them out), keystrokes that follow before the next frame filter
 * once more there, with the last text. No keystroke waits longer than a frame (filtering 5,000
 * rows costs ~2 ms, so a fixed delay would only add latency).
 * @fires dp-filter-change - the user changed a field
 */
@customElement('dp-fleet-filter')
export class DpFleetFilter extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: flex;
        gap: 6px;
        align-items: center;
        flex-wrap: wrap;
      }
      [aria-pressed='true'] {
        background: var(--dp-row-selected);
        border-color: var(--dp-primary);
      }
      input[type='search'] {
        width: 14em;
      }
    `,
  ];

  /** Nodes to offer. */
  @property({ attribute: false }) nodes: string[] = [];
  /** The filter shown. */
  @property({ attribute: false }) filter: FleetFilter = EMPTY_QUERY;

  /** The frame that will emit the text typed since the last emit (0: none pending). */
  private _frame = 0;
  /** The frame after the last emit (0: a frame has drawn since; a keystroke emits at once). */
  private _settle = 0;
  /** Quick filters as last emitted, until the owner passes them back down as `filter`. */
  private _quick: readonly QuickFilter[] | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('filter')) this._quick = null;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this._frame);
    cancelAnimationFrame(this._settle);
    this._frame = this._settle = 0;
  }

  override render() {
    const f = this.filter;
    return html`
      <input type="search" name="text" aria-label=${S.search} placeholder=${S.search} .value=${f.text} @input=${this._onText} />
      ${this.nodes.length > 1 || f.node !== ''
        ? // One node (a node's tab in PVE, a single-node install) leaves nothing to choose.
          html`<select aria-label="Node" name="node" @change=${() => this._emit()}>
            <option value="" ?selected=${f.node === ''}>${S.allNodes}</option>
            ${this.nodes.map((n) => html`<option value=${n} ?selected=${f.node === n}>${n}</option>`)}
          </select>`
        : nothing}
      <select aria-label="Risk" name="risk" @change=${() => this._emit()}>
        <option value="" ?selected=${f.risk === ''}>${S.allRisks}</option>
        ${RISK_ORDER.map((r) => html`<option value=${r} ?selected=${f.risk === r}>${RISK_LABEL[r]}</option>`)}
      </select>
      <span role="group" aria-label=${S.quickFilters}>
        ${QUICK_FILTERS.map(
          (k) => html`<button data-quick=${k} aria-pressed=${f.quick.includes(k) ? 'true' : 'false'} @click=${() => this._toggle(k)}>${QUICK_LABEL[k]}</button>`,
        )}
      </span>
    `;
  }

  private _onText(): void {
    if (this._settle === 0) this._emit();
    else this._frame ||= requestAnimationFrame(() => this._emit());
  }

  private _toggle(k: QuickFilter): void {
    const now = this._quick ?? this.filter.quick;
    this._quick = now.includes(k) ? now.filter((q) => q !== k) : [...now, k];
    this._emit(this._quick);
  }

  // Read from the controls, not from `filter`: two quick edits must not undo each other before
  // the owner has passed the first one back down.
  private _emit(quick: readonly QuickFilter[] = this._quick ?? this.filter.quick): void {
    cancelAnimationFrame(this._frame);
    this._frame = 0;
    this._settle ||= requestAnimationFrame(() => (this._settle = 0));
    const value = (name: string): string => (this.renderRoot.querySelector(`[name=${name}]`) as HTMLInputElement | null)?.value ?? '';
    this.dispatchEvent(new DpFilterChangeEvent({ node: value('node'), risk: value('risk') as RiskLevel | '', text: value('text'), quick }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-fleet-filter': DpFleetFilter;
  }
}
