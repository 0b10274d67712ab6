// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { VmReport } from '../../src/analysis/types.js';
import type { RebootPolicy } from '../../src/migration/journal-model.js';
import type { Gate, MigrationPlan, VmPlan } from '../../src/migration/types.js';
import { DpApplyRequestEvent, DpCloseEvent, DpIncludeHiddenEvent, type DpRebootChangeEvent } from '../events.js';
import { applyCommands, groupByState, nothingToChange, vmPlanState, type VmPlanState } from '../data/plan.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';
import { itemList, itemListStyles } from '../components/item-list.js';
import '../components/dp-alert.js';
import '../components/dp-dialog.js';
import '../components/dp-pending-value.js';
import '../components/dp-reboot-choice.js';
import '../components/dp-risk-badge.js';

/** Plans up to this many VMs list every VM in place (a few VM blocks are shorter than the virtualizer's box). */
const FEW_VMS = 3;

const STATE_LABEL: Record<VmPlanState, string> = {
  write: 'To write',
  written: 'Written, needs a cold start',
  blocked: 'Blocked',
  nothing: 'Nothing to change',
};

/**
 * The migration plan of the ticked VMs in a window: VMs grouped by what happens to them (one
 * write; already written and waiting for a cold start, so no second write; blocked; nothing to
 * change, saying why), each config key as PVE shows a pending change (current, then the proposed
 * value in dark orange; removals struck through). Ticked VMs the filter hides are listed with
 * their node and left out unless the user includes them. Apply asks first, naming every VM and
 * its node, with the reboot choice; in read-only mode no write control exists, and it says why.
 * @fires dp-apply-request - the user confirmed Apply (the previewed plan, its VMs, the reboot choice)
 * @fires dp-include-hidden - the user included or excluded the hidden ticked VMs
 * @fires dp-close - the user closed the window
 */
@customElement('dp-plan-preview')
export class DpPlanPreview extends LitElement {
  static override styles = [
    shared,
    itemListStyles,
    css`
      :host {
        --dp-item-list-height: min(50vh, 520px);
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
      div.vm {
        padding: 6px 8px;
        border-bottom: 1px solid var(--dp-border);
        width: 100%;
        box-sizing: border-box;
      }
      .counts {
        display: flex;
        gap: 14px;
        flex-wrap: wrap;
        margin: 6px 0;
      }
      .hidden-vms {
        max-height: 8em;
        overflow: auto;
      }
      .confirm ul {
        max-height: 10em;
        overflow: auto;
      }
      .state {
        font-weight: normal;
        color: var(--dp-text-muted);
      }
    `,
  ];

  /** The plan shown (made by the panel from the audit the user sees; applied as is). */
  @property({ attribute: false }) plan: MigrationPlan | null = null;
  /** The audit of the VMs (for the "nothing to change" wording). */
  @property({ attribute: false }) reports: ReadonlyMap<number, VmReport> = new Map();
  /** Ticked VMs the filter hides. */
  @property({ attribute: false }) hiddenTicked: VmReport[] = [];
  /** The hidden ticked VMs are part of the plan. */
  @property({ type: Boolean }) includeHidden = false;
  /** No write control at all. */
  @property({ type: Boolean }) readOnly = false;
  /** Why writes are off (shown once, in read-only mode). */
  @property() readOnlyReason = '';
  /** `pve1:8006`, for the commands. */
  @property() upstream = '';
  /** Offer Apply (served by a writable shim with the jobs API). */
  @property({ type: Boolean }) canApply = false;
  /** Offer the reboot choice (`now`/`if-stopped`); without it the write leaves changes pending. */
  @property({ type: Boolean }) canReboot = false;
  /** An apply is being started: the buttons are disabled. */
  @property({ type: Boolean }) applying = false;

  @state() private _confirming = false;
  @state() private _reboot: RebootPolicy = 'never';
  @state() private _perNode = 1;

  override render() {
    const plan = this.plan;
    if (!plan) return nothing;
    const groups = groupByState(plan);
    return html`<dp-dialog heading=${`${S.planTitle}: ${plan.vms.length} VM${plan.vms.length === 1 ? '' : 's'} (aio=${plan.aio})`}>
      ${this._hidden()}
      <div class="counts" role="status">
        ${(Object.keys(STATE_LABEL) as VmPlanState[]).map((k) => html`<span data-state=${k}>${STATE_LABEL[k]}: <b>${groups[k].length}</b></span>`)}
      </div>
      ${itemList({ items: plan.vms, inPlaceMax: FEW_VMS, label: 'VMs of the plan', key: (vm) => vm.vmid, render: (vm) => this._vm(vm, plan) })}
      ${this._applySection(plan, groups)}
      <button slot="footer" @click=${() => this.dispatchEvent(new DpCloseEvent())}>${S.closeDetails}</button>
    </dp-dialog>`;
  }

  private _hidden() {
    if (this.hiddenTicked.length === 0) return nothing;
    return html`<dp-alert variant="warning" class="hidden-ticked" heading=${S.hiddenTicked(this.hiddenTicked.length, this.includeHidden)}>
      <ul class="hidden-vms">
        ${this.hiddenTicked.map((vm) => html`<li>VM ${vm.vmid}${vm.name ? ` (${vm.name})` : ''} on ${vm.node ?? '?'}</li>`)}
      </ul>
      <label
        ><input type="checkbox" name="include-hidden" .checked=${this.includeHidden} @change=${(e: Event) => this.dispatchEvent(new DpIncludeHiddenEvent((e.target as HTMLInputElement).checked))} />
        ${S.includeHidden(this.hiddenTicked.length)}</label
      >
    </dp-alert>`;
  }

  /** The VMs Apply acts on: writes, plus (with a reboot choice) those already written. */
  private _targets(groups: Record<VmPlanState, VmPlan[]>): VmPlan[] {
    return this._reboot === 'never' ? groups.write : [...groups.write, ...groups.written];
  }

  private _applySection(plan: MigrationPlan, groups: Record<VmPlanState, VmPlan[]>) {
    if (this.readOnly) return html`<p class="muted read-only">${S.applyHiddenReadOnly}</p>`;
    const eligible = [...groups.write, ...groups.written].map((vm) => vm.vmid);
    if (eligible.length === 0) return nothing;
    if (!this.canApply) {
      return html`<p>${S.applyHowTo}</p>
        <pre tabindex="0">${applyCommands(eligible, this.upstream).join('\n')}</pre>`;
    }
    const targets = this._targets(groups);
    return html`<section class="apply">
      ${this.canReboot
        ? html`<dp-reboot-choice
            reboot=${this._reboot}
            .perNode=${this._perNode}
            @dp-reboot-change=${(e: DpRebootChangeEvent) => ((this._reboot = e.choice.reboot), (this._perNode = e.choice.perNode))}
          ></dp-reboot-choice>`
        : nothing}
      ${groups.written.length > 0 && this._reboot === 'never'
        ? html`<p class="muted written-hint">${S.writtenHint(groups.written.length, this.canReboot)}</p>`
        : nothing}
      ${this._confirming ? this._confirm(plan, targets) : html`<p>
            <button class="primary apply" ?disabled=${this.applying || targets.length === 0} @click=${() => (this._confirming = true)}>${S.applyButton(targets.length)}</button>
            <span class="muted">${S.applyHintFor(this._reboot)}</span>
          </p>`}
      <details>
        <summary>${S.applyCli}</summary>
        <pre tabindex="0">${applyCommands(eligible, this.upstream).join('\n')}</pre>
      </details>
    </section>`;
  }

  /** PVE's "Are you sure" in the window itself, naming every VM and its node. */
  private _confirm(plan: MigrationPlan, targets: VmPlan[]) {
    const byNode = new Map<string, number>();
    for (const vm of targets) byNode.set(vm.node ?? '?', (byNode.get(vm.node ?? '?') ?? 0) + 1);
    const nodes = [...byNode].sort(([a], [b]) => a.localeCompare(b)).map(([n, c]) => `${n} (${c})`).join(', ');
    return html`<div class="confirm" role="alertdialog" aria-labelledby="confirm-q">
      <p id="confirm-q"><b>${S.applyConfirmQuestion(targets.length, nodes, this._reboot)}</b></p>
      <ul>
        ${targets.map((vm) => html`<li>VM ${vm.vmid}${vm.name ? ` (${vm.name})` : ''} on ${vm.node ?? '?'}: ${STATE_LABEL[vmPlanState(vm)].toLowerCase()}</li>`)}
      </ul>
      <button class="primary yes" ?disabled=${this.applying} @click=${() => this._onYes(plan, targets)}>${S.yes}</button>
      <button class="no" @click=${() => (this._confirming = false)}>${S.no}</button>
    </div>`;
  }

  private _onYes(plan: MigrationPlan, targets: VmPlan[]): void {
    this._confirming = false;
    this.dispatchEvent(new DpApplyRequestEvent(plan, targets.map((vm) => vm.vmid), this._reboot, this._perNode));
  }

  private _vm(vm: VmPlan, plan: MigrationPlan) {
    const state = vmPlanState(vm);
    return html`<div role="listitem" class="vm" data-vmid=${vm.vmid} data-state=${state}>
      <h3>
        VM ${vm.vmid}${vm.name ? ` (${vm.name})` : ''} on ${vm.node ?? '?'}${vm.risk ? html` <dp-risk-badge level=${vm.risk}></dp-risk-badge>` : nothing}
        <span class="state">· ${STATE_LABEL[state]}</span>
      </h3>
      ${vm.blocked.length ? html`<dp-alert variant="error" heading=${S.planBlocked}>${this._gates(vm.blocked)}</dp-alert>` : nothing}
      ${vm.warnings.length ? html`<dp-alert variant="warning" heading=${S.planWarnings}>${this._gates(vm.warnings)}</dp-alert>` : nothing}
      ${state === 'nothing' ? html`<p class="muted nothing">${nothingToChange(vm, this.reports.get(vm.vmid), plan.aio)}</p>` : nothing}
      ${state === 'written' ? html`<p class="written">${S.writtenNeedsColdStart}</p>` : nothing}
      ${vm.changes.length
        ? html`<table>
            <thead><tr><th scope="col">Key</th><th scope="col">Value (proposed below)</th></tr></thead>
            <tbody>
              ${vm.changes.map(
                (c) => html`<tr>
                  <td class="key">${c.key}${c.alreadyPending ? html` <span class="muted">(pending)</span>` : nothing}</td>
                  <td><dp-pending-value .current=${c.before} .pending=${c.after} ?deleted=${c.after === null}></dp-pending-value></td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : nothing}
      ${state === 'write' && vm.coldStartNeeded ? html`<p class="muted">${S.planColdStart}</p>` : nothing}
    </div>`;
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
