// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html } from 'lit';
import { customElement } from 'lit/decorators.js';

/**
 * A centred message for an empty result.
 * @slot - the message
 * @slot action - an optional button (e.g. Clear Filter)
 */
@customElement('dp-empty-state')
export class DpEmptyState extends LitElement {
  static override styles = css`
    :host {
      display: block;
      padding: 24px 8px;
      text-align: center;
      color: var(--dp-text-muted);
    }
    ::slotted([slot='action']) {
      margin-top: 8px;
    }
  `;

  override render() {
    return html`<div role="status"><slot></slot></div><slot name="action"></slot>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-empty-state': DpEmptyState;
  }
}
