// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/**
 * A value with its pending change, drawn as PVE's PendingObjectGrid does: the current value,
 * then the pending value below it in dark orange (`--dp-pending`); a pending delete strikes the current value
 * through. Used for PVE's own pending config and for the migration plan's proposed values.
 */
@customElement('dp-pending-value')
export class DpPendingValue extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    .pending {
      color: var(--dp-pending, #b45309);
    }
    .deleted {
      text-decoration: line-through;
    }
  `;

  /** Current value; `null` = not set. */
  @property({ attribute: false }) current: string | null = null;
  /** Pending / proposed value; `undefined` = no change. */
  @property({ attribute: false }) pending: string | null | undefined = undefined;
  /** The key is deleted by the pending change. */
  @property({ type: Boolean }) deleted = false;

  override render() {
    const changed = this.pending !== undefined && this.pending !== this.current;
    return html`<div class=${this.deleted ? 'current deleted' : 'current'}>${this.current ?? html`<span class="none">-</span>`}</div>${
      changed && !this.deleted && this.pending !== null ? html`<div class="pending">${this.pending}</div>` : nothing
    }`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-pending-value': DpPendingValue;
  }
}
