// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DpFilterChangeEvent, type FleetFilter } from '../events.js';
import { EMPTY_FILTER } from '../data/filter.js';
import { RISK_LABEL, RISK_ORDER, S } from '../strings.js';
import { shared } from '../styles/shared.js';
import type { RiskLevel } from '../../src/analysis/types.js';

/**
 * Node, risk level and text filter of the fleet table.
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
    `,
  ];

  /** Nodes to offer. */
  @property({ attribute: false }) nodes: string[] = [];
  /** The filter shown. */
  @property({ attribute: false }) filter: FleetFilter = EMPTY_FILTER;

  override render() {
    const f = this.filter;
    return html`
      <select aria-label="Node" name="node" @change=${this._emit}>
        <option value="" ?selected=${f.node === ''}>${S.allNodes}</option>
        ${this.nodes.map((n) => html`<option value=${n} ?selected=${f.node === n}>${n}</option>`)}
      </select>
      <select aria-label="Risk" name="risk" @change=${this._emit}>
        <option value="" ?selected=${f.risk === ''}>${S.allRisks}</option>
        ${RISK_ORDER.map((r) => html`<option value=${r} ?selected=${f.risk === r}>${RISK_LABEL[r]}</option>`)}
      </select>
      <input
        type="search"
        name="text"
        aria-label=${S.search}
        placeholder=${S.search}
        .value=${f.text}
        @input=${this._emit}
      />
    `;
  }

  // Read from the controls, not from `filter`: two quick edits must not undo each other before
  // the owner has passed the first one back down.
  private _emit(): void {
    const value = (name: string): string => (this.renderRoot.querySelector(`[name=${name}]`) as HTMLInputElement | null)?.value ?? '';
    this.dispatchEvent(new DpFilterChangeEvent({ node: value('node'), risk: value('risk') as RiskLevel | '', text: value('text') }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-fleet-filter': DpFleetFilter;
  }
}
