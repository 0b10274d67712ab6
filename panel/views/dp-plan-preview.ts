// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Gate, MigrationPlan, VmPlan } from '../../src/migration/types.js';
import { DpApplyRequestEvent } from '../events.js';
import { applyCommands } from '../data/plan.js';
import { S } from '../strings.js';
import { card, shared } from '../styles/shared.js';
import '../components/dp-alert.js';
import '../components/dp-pending-value.js';
import '../components/dp-risk-badge.js';

/**
 * The migration plan of the ticked VMs, each config key as PVE shows a pending change (current,
 * then the proposed value in dark orange; removals struck through). Behind a writable shim it
 * offers Apply (after "Are you sure ..."), which the shim runs with the CLI's engine and journal;
 * otherwise it shows the CLI commands. In read-only mode both are hidden, and it says why.
 * @fires dp-apply-request - the user confirmed Apply
 */
@customElement('dp-plan-preview')
export class DpPlanPreview extends LitElement {
  static override styles = [
    shared,
    card,
    css`
      section + section {
        margin-top: 12px;
      }
      h3 {
        font-size: 13px;
        margin: 0 0 4px;
      }
      ul {
        margin: 4px 0;
        padding-left: 18px;
      }
      td.key {
        font-family: monospace;
        width: 10em;
      }
    `,
  ];

  /** The plan shown. */
  @property({ attribute: false }) plan: MigrationPlan | null = null;
  /** Hide the apply commands. */
  @property({ type: Boolean }) readOnly = false;
  /** `pve1:8006`, for the commands. */
  @property() upstream = '';
  /** Offer the Apply button (the panel is served by a writable shim). */
  @property({ type: Boolean }) canApply = false;
  /** An apply is running: the button is disabled. */
  @property({ type: Boolean }) applying = false;

  override render() {
    const plan = this.plan;
    if (!plan) return nothing;
    const eligible = plan.vms.filter((vm) => vm.eligible).map((vm) => vm.vmid);
    return html`
      <h2>${S.planTitle} (aio=${plan.aio})</h2>
      ${plan.vms.map((vm) => this._vm(vm))}
      <section class="apply">
        ${this.readOnly
          ? html`<p class="muted">${S.applyHiddenReadOnly}</p>`
          : eligible.length === 0
            ? nothing
            : this.canApply
              ? html`<p>
                    <button class="primary apply" ?disabled=${this.applying} @click=${() => this._onApply(eligible)}>
                      ${this.applying ? S.applyRunning : S.applyButton(eligible.length)}
                    </button>
                    <span class="muted">${S.applyHint}</span>
                  </p>
                  <details>
                    <summary>${S.applyCli}</summary>
                    <pre>${applyCommands(eligible, this.upstream).join('\n')}</pre>
                  </details>`
              : html`<p>${S.applyHowTo}</p>
                  <pre>${applyCommands(eligible, this.upstream).join('\n')}</pre>`}
      </section>
    `;
  }

  private _vm(vm: VmPlan) {
    return html`<section data-vmid=${vm.vmid}>
      <h3>VM ${vm.vmid}${vm.name ? ` (${vm.name})` : ''}${vm.risk ? html` <dp-risk-badge level=${vm.risk}></dp-risk-badge>` : nothing}
        <span class="muted">${vm.path === 'none' ? '' : `${vm.path} path`}</span></h3>
      ${vm.blocked.length ? html`<dp-alert variant="error" heading=${S.planBlocked}>${this._gates(vm.blocked)}</dp-alert>` : nothing}
      ${vm.warnings.length ? html`<dp-alert variant="warning" heading=${S.planWarnings}>${this._gates(vm.warnings)}</dp-alert>` : nothing}
      ${vm.changes.length === 0 && vm.blocked.length === 0 ? html`<p class="muted">${S.planNothing}</p>` : nothing}
      ${vm.changes.length
        ? html`<table>
            <thead><tr><th>Key</th><th>Value (proposed below)</th></tr></thead>
            <tbody>
              ${vm.changes.map(
                (c) => html`<tr>
                  <td class="key">${c.key}</td>
                  <td><dp-pending-value .current=${c.before} .pending=${c.after} ?deleted=${c.after === null}></dp-pending-value></td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : nothing}
      ${vm.coldStartNeeded ? html`<p class="muted">${S.planColdStart}</p>` : nothing}
    </section>`;
  }

  private _onApply(vmids: number[]): void {
    // PVE asks "Are you sure ..." before anything dangerous; a window.confirm is that dialog here.
    if (!window.confirm(S.applyConfirm(vmids.join(', ')))) return;
    this.dispatchEvent(new DpApplyRequestEvent(vmids));
  }

  private _gates(gates: Gate[]) {
    return html`<ul>
      ${gates.map((g) => html`<li>${g.disk ? html`<b>${g.disk}</b>: ` : nothing}${g.message}${g.fix ? html` <i>${g.fix}</i>` : nothing} <code>${g.code}</code></li>`)}
    </ul>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-plan-preview': DpPlanPreview;
  }
}
