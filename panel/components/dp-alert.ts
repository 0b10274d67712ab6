// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DpRetryEvent } from '../events.js';
import { S } from '../strings.js';

/**
 * An inline message (`role="alert"` for errors). With `retry`, a Retry button fires `dp-retry`.
 * @fires dp-retry - the user clicked Retry
 * @slot - the message
 */
@customElement('dp-alert')
export class DpAlert extends LitElement {
  static override styles = css`
    :host {
      display: block;
      border: 1px solid var(--dp-border);
      border-left-width: 4px;
      padding: 8px 10px;
      margin: 8px 0;
      background: var(--dp-panel-bg);
    }
    :host([variant='error']) {
      border-left-color: var(--dp-critical);
      background: var(--dp-invalid-row);
    }
    :host([variant='warning']) {
      border-left-color: var(--dp-warning);
      background: var(--dp-warning-row);
    }
    :host([variant='info']) {
      border-left-color: var(--dp-info);
    }
    .head {
      font-weight: bold;
    }
    button {
      font: inherit;
      margin-top: 6px;
      padding: 2px 10px;
      cursor: pointer;
    }
  `;

  /** `error`, `warning` or `info`. */
  @property({ reflect: true }) variant: 'error' | 'warning' | 'info' = 'info';
  /** Bold first line. */
  @property() heading = '';
  /** Show a Retry button. */
  @property({ type: Boolean }) retry = false;

  override render() {
    return html`<div role=${this.variant === 'error' ? 'alert' : 'status'}>
      ${this.heading ? html`<div class="head">${this.heading}</div>` : nothing}
      <div class="body"><slot></slot></div>
      ${this.retry ? html`<button @click=${this._onRetry}>${S.retry}</button>` : nothing}
    </div>`;
  }

  private _onRetry(): void {
    this.dispatchEvent(new DpRetryEvent());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-alert': DpAlert;
  }
}
