// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/** A loading indicator with `role="progressbar"` and its label ("Please wait..."). */
@customElement('dp-spinner')
export class DpSpinner extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      align-items: center;
      gap: 8px;
      padding: 16px 8px;
      color: var(--dp-text-muted);
    }
    .wheel {
      width: 16px;
      height: 16px;
      border: 2px solid var(--dp-border);
      border-top-color: var(--dp-primary);
      border-radius: 50%;
      animation: spin 0.8s linear infinite;
    }
    @keyframes spin {
      to {
        transform: rotate(360deg);
      }
    }
  `;

  /** What is loading; also the accessible label. */
  @property() label = 'Please wait...';
  /** Done so far and total, when known (sets aria-valuenow/max). */
  @property({ type: Number }) done = 0;
  @property({ type: Number }) total = 0;

  override render() {
    return html`<div
        class="wheel"
        role="progressbar"
        aria-label=${this.label}
        aria-valuemin="0"
        aria-valuemax=${this.total || 100}
        aria-valuenow=${this.total ? this.done : 0}
      ></div>
      <span>${this.label}</span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-spinner': DpSpinner;
  }
}
