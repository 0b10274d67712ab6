// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html } from 'lit';
import { consume } from '@lit/context';
import { customElement, property, query } from 'lit/decorators.js';
import { inlineDialogsContext } from '../context.js';
import { DpCloseEvent } from '../events.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';

/**
 * A modal window as PVE draws one (title bar with a close tool, content below), on the native
 * `<dialog>`: the browser keeps focus inside, puts it in the top layer above any host page (the
 * PVE web UI included) and reports Escape. The owner removes the element on `dp-close` and puts
 * focus back where the user was.
 * @fires dp-close - Escape, the close tool, or a click outside the window
 * @slot - the content
 * @slot footer - buttons, right-aligned as in PVE's windows
 */
@customElement('dp-dialog')
export class DpDialog extends LitElement {
  static override styles = [
    shared,
    css`
      dialog {
        padding: 0;
        border: 1px solid var(--dp-border);
        background: var(--dp-panel-bg);
        color: var(--dp-text);
        width: min(var(--dp-dialog-width, 960px), 94vw);
        max-height: 90vh;
        display: flex;
        flex-direction: column;
        box-shadow: 0 4px 18px rgb(0 0 0 / 35%);
      }
      dialog.inline {
        position: static;
        width: auto;
        max-height: none;
        margin: 0 0 10px;
        box-shadow: none;
      }
      dialog.inline .close,
      dialog.inline .footer {
        display: none;
      }
      dialog:not([open]) {
        display: none;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 30%);
      }
      .title {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 6px 10px;
        background: var(--dp-header-bg);
        border-bottom: 1px solid var(--dp-border);
      }
      h2 {
        margin: 0;
        flex: 1;
        font-size: 14px;
      }
      .close {
        all: unset;
        cursor: pointer;
        width: 20px;
        height: 20px;
        text-align: center;
        line-height: 20px;
        font-size: 16px;
        color: var(--dp-text-muted);
      }
      .close:focus-visible {
        outline: 2px solid var(--dp-primary);
      }
      .body {
        padding: 10px;
        overflow: auto;
        flex: 1;
      }
      .footer {
        display: flex;
        justify-content: flex-end;
        gap: 6px;
        padding: 6px 10px;
        border-top: 1px solid var(--dp-border);
        background: var(--dp-header-bg);
      }
    `,
  ];

  /** The window title (also its accessible name). */
  @property() heading = '';

  /** Drawn in the page flow, not modal (see `inlineDialogsContext`); no close tool, no footer. */
  @consume({ context: inlineDialogsContext })
  @property({ attribute: false })
  inline = false;

  @query('dialog') private _dialog!: HTMLDialogElement;

  override firstUpdated(): void {
    // `open` without show(): no focusing steps, the tab's own focus stays where it is.
    if (this.inline) this._dialog.setAttribute('open', '');
    else this._dialog.showModal();
  }

  /** Closes without firing (the owner decided). */
  close(): void {
    this._dialog?.close();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._dialog?.close();
  }

  override render() {
    return html`<dialog class=${this.inline ? 'inline' : ''} aria-labelledby="title" @cancel=${this._onCancel} @click=${this._onBackdrop}>
      <div class="title">
        <h2 id="title">${this.heading}</h2>
        <button class="close" aria-label=${S.closeDetails} title=${S.closeDetails} @click=${this._fire}>✕</button>
      </div>
      <div class="body" tabindex="0"><slot></slot></div>
      <div class="footer"><slot name="footer"></slot></div>
    </dialog>`;
  }

  private _onCancel(e: Event): void {
    // Escape: the owner removes the dialog (and restores focus), so the browser must not close it first.
    e.preventDefault();
    this._fire();
  }

  private _onBackdrop(e: MouseEvent): void {
    if (e.target === this._dialog) {
      const r = this._dialog.getBoundingClientRect();
      const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
      if (!inside) this._fire();
    }
  }

  private _fire(): void {
    this.dispatchEvent(new DpCloseEvent());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-dialog': DpDialog;
  }
}
