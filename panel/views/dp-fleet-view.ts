// SPDX-License-Identifier: AGPL-3.0-or-later
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { PveClient } from '../../src/api/client.js';
import { apiClientContext, panelModeContext, type PanelMode } from '../context.js';
import type { DpApplyRequestEvent, DpFilterChangeEvent, DpSelectionChangeEvent, DpVmSelectEvent, FleetFilter } from '../events.js';
import { type Applier, type ShimApplyAnswer, applyThroughShim, describeCounts } from '../data/apply.js';
import { EMPTY_FILTER, describeFilter, filterVms, nodesOf } from '../data/filter.js';
import { type FleetAudit, type FleetLoader, loadFleetAudit } from '../data/fleet-audit.js';
import { planSelected } from '../data/plan.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';
import '../components/dp-alert.js';
import '../components/dp-empty-state.js';
import '../components/dp-spinner.js';
import './dp-fleet-filter.js';
import './dp-fleet-table.js';
import './dp-plan-preview.js';
import './dp-vm-detail.js';

/**
 * The fleet page: loads the audit (`@lit/task`, aborted when reloaded), and shows loading, empty,
 * filtered-empty and error (with Retry) as distinct states; then the filter, the table, one VM's
 * details and the plan preview of the ticked VMs, whose Apply it hands to the shim.
 */
@customElement('dp-fleet-view')
export class DpFleetView extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      .toolbar {
        display: flex;
        gap: 8px;
        align-items: center;
        flex-wrap: wrap;
        margin-bottom: 8px;
      }
      .spacer {
        flex: 1;
      }
      .count {
        color: var(--dp-text-muted);
      }
      details.notes {
        margin-bottom: 8px;
        color: var(--dp-text-muted);
      }
      details.notes ul {
        margin: 4px 0;
      }
    `,
  ];

  /** The API client (from `<dp-app>`'s context). */
  @consume({ context: apiClientContext, subscribe: true })
  @property({ attribute: false })
  client?: PveClient;

  /** Read-only flag, upstream, Apply availability (from `<dp-app>`'s context). */
  @consume({ context: panelModeContext, subscribe: true })
  @property({ attribute: false })
  mode: PanelMode = { readOnly: false, readOnlyReason: '', upstream: '', canApply: false, csrfToken: '' };

  /** Replaces the API load (tests, or a caller with its own source). */
  @property({ attribute: false }) loader?: FleetLoader;
  /** Replaces the shim's apply (tests). */
  @property({ attribute: false }) applier?: Applier;

  @state() private _filter: FleetFilter = EMPTY_FILTER;
  @state() private _selected: ReadonlySet<number> = new Set();
  @state() private _detail: number | null = null;
  @state() private _planFor: ReadonlySet<number> | null = null;
  @state() private _progress = { done: 0, total: 0 };
  @state() private _applying = false;
  @state() private _applied: ShimApplyAnswer | null = null;
  @state() private _applyError = '';

  private readonly _task = new Task(this, {
    task: async ([loader, client], { signal }) => {
      this._progress = { done: 0, total: 0 };
      const onProgress = (done: number, total: number): void => {
        this._progress = { done, total };
      };
      if (loader) return loader(signal, onProgress);
      if (!client) throw new Error('no API client');
      return loadFleetAudit(client, { signal, onProgress });
    },
    args: () => [this.loader, this.client] as const,
  });

  /** Loads again (Reload button, Retry). */
  reload(): void {
    void this._task.run();
  }

  override render() {
    return html`${this._applyOutcome()}${this._task.render({
      initial: () => html`<dp-spinner label=${S.loadingConfig}></dp-spinner>`,
      pending: () =>
        html`<dp-spinner label=${S.loading(this._progress.done, this._progress.total)} .done=${this._progress.done} .total=${this._progress.total}></dp-spinner>`,
      error: (err) =>
        html`<dp-alert variant="error" heading=${S.loadError} retry @dp-retry=${() => this.reload()}>${errorText(err)}</dp-alert>`,
      complete: (audit) => this._complete(audit),
    })}`;
  }

  private _applyOutcome() {
    if (this._applyError) {
      return html`<dp-alert variant="error" class="apply-result" heading=${S.applyFailed}>${this._applyError}</dp-alert>`;
    }
    const a = this._applied;
    if (!a) return nothing;
    const failed = (a.summary.counts.failed ?? 0) > 0;
    return html`<dp-alert variant=${failed ? 'warning' : 'info'} class="apply-result" heading=${S.applyDone(describeCounts(a.summary))}>
      <ul>
        ${a.summary.results.map((r) => html`<li>VM ${r.vmid}${r.node ? ` (${r.node})` : ''}: ${r.result.replace(/-/g, ' ')}${r.reason ? ` — ${r.reason}` : ''}</li>`)}
        ${a.errors.map((e) => html`<li>${e}</li>`)}
      </ul>
      <div>${S.applyJournal}: <code>${a.journal}</code></div>
      <div>${S.applyUndo}</div>
      <pre>${a.rollback}</pre>
    </dp-alert>`;
  }

  private async _onApply(e: DpApplyRequestEvent): Promise<void> {
    this._applying = true;
    this._applyError = '';
    this._applied = null;
    try {
      const apply: Applier = this.applier ?? ((vmids, signal) => applyThroughShim(vmids, this.mode.csrfToken, signal));
      this._applied = await apply(e.vmids);
      // The fleet as it is now: the applied values show as pending (dark orange).
      this.reload();
    } catch (err) {
      this._applyError = errorText(err);
    } finally {
      this._applying = false;
    }
  }

  private _complete(audit: FleetAudit) {
    const all = audit.report.vms;
    const problems = audit.report.errors;
    const notes = [...audit.report.assumptions, ...(audit.report.warnings ?? []).map((w) => `${w.source ? `${w.source}: ` : ''}${w.message}`)];
    const head = html`${problems.length
        ? html`<dp-alert variant="warning" heading=${`${problems.length} VM(s) could not be read`}
            ><ul>
              ${problems.map((e) => html`<li>${e.source ? `${e.source}: ` : ''}${e.message}</li>`)}
            </ul></dp-alert
          >`
        : nothing}
      ${notes.length
        ? html`<details class="notes">
            <summary>${S.notes(notes.length)}</summary>
            <ul>
              ${notes.map((n) => html`<li>${n}</li>`)}
            </ul>
          </details>`
        : nothing}`;
    if (all.length === 0) {
      return html`${head}<dp-empty-state>${S.emptyFleet}<button slot="action" @click=${() => this.reload()}>${S.refresh}</button></dp-empty-state>`;
    }
    const shown = filterVms(all, this._filter);
    const selectedShown = [...this._selected].filter((id) => all.some((vm) => vm.vmid === id));
    const detail = this._detail === null ? null : (all.find((vm) => vm.vmid === this._detail) ?? null);
    return html`
      ${head}
      <div class="toolbar">
        <dp-fleet-filter .nodes=${nodesOf(all)} .filter=${this._filter} @dp-filter-change=${(e: DpFilterChangeEvent) => (this._filter = e.filter)}></dp-fleet-filter>
        <span class="count">${shown.length} of ${all.length} VMs</span>
        <span class="spacer"></span>
        <button class="primary" ?disabled=${selectedShown.length === 0} @click=${() => (this._planFor = new Set(selectedShown))}>${S.planSelected(selectedShown.length)}</button>
        <button @click=${() => this.reload()}>${S.refresh}</button>
      </div>
      ${shown.length === 0
        ? html`<dp-empty-state class="filtered-empty"
            >${S.filteredEmpty(describeFilter(this._filter))}
            <button slot="action" @click=${() => (this._filter = EMPTY_FILTER)}>${S.clearFilter}</button></dp-empty-state
          >`
        : html`<dp-fleet-table
            .vms=${shown}
            .selected=${this._selected}
            .current=${this._detail}
            @dp-selection-change=${(e: DpSelectionChangeEvent) => (this._selected = e.vmids)}
            @dp-vm-select=${(e: DpVmSelectEvent) => (this._detail = e.vmid)}
          ></dp-fleet-table>`}
      ${detail ? html`<dp-vm-detail .vm=${detail} @dp-vm-select=${(e: DpVmSelectEvent) => (this._detail = e.vmid)}></dp-vm-detail>` : nothing}
      ${this._planFor && this._planFor.size > 0
        ? html`<dp-plan-preview
            .plan=${planSelected(audit, this._planFor)}
            ?readOnly=${this.mode.readOnly}
            ?canApply=${this.mode.canApply && !this.mode.readOnly}
            ?applying=${this._applying}
            upstream=${this.mode.upstream}
            @dp-apply-request=${(ev: DpApplyRequestEvent) => void this._onApply(ev)}
          ></dp-plan-preview>`
        : nothing}
    `;
  }
}

/** PVE's `message (status)` text, as `PveApiError` formats it; anything else by its message. */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-fleet-view': DpFleetView;
  }
}
