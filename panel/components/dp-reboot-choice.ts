// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { RebootPolicy } from '../../src/migration/journal-model.js';
import { DpRebootChangeEvent } from '../events.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';

const POLICIES: readonly RebootPolicy[] = ['never', 'if-stopped', 'now'];

/**
 * What happens after the write (apply or rollback): no reboot, start nothing, or reboot through
 * PVE now with a number of reboots at once per node (default 1).
 * @fires dp-reboot-change - the user changed the choice
 */
@customElement('dp-reboot-choice')
export class DpRebootChoice extends LitElement {
  static override styles = [
    shared,
    css`
      fieldset {
        border: 1px solid var(--dp-border);
        margin: 8px 0;
      }
      input[type='number'] {
        width: 4em;
      }
    `,
  ];

  /** The reboot policy shown. */
  @property() reboot: RebootPolicy = 'never';
  /** Reboots at once per node. */
  @property({ type: Number }) perNode = 1;

  override render() {
    return html`<fieldset>
      <legend>${S.rebootLegend}</legend>
      ${POLICIES.map(
        (r) => html`<label><input type="radio" name="reboot" value=${r} .checked=${this.reboot === r} @change=${() => this._emit(r, this.perNode)} /> ${S.rebootChoice[r]}</label><br />`,
      )}
      ${this.reboot === 'now'
        ? html`<label
            >${S.perNode}
            <input
              type="number"
              name="per-node"
              min="1"
              max="16"
              .value=${String(this.perNode)}
              @change=${(e: Event) => this._emit(this.reboot, Math.min(16, Math.max(1, Math.round(Number((e.target as HTMLInputElement).value)) || 1)))}
          /></label>`
        : nothing}
    </fieldset>`;
  }

  private _emit(reboot: RebootPolicy, perNode: number): void {
    this.dispatchEvent(new DpRebootChangeEvent({ reboot, perNode }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-reboot-choice': DpRebootChoice;
  }
}
