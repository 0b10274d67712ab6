// SPDX-License-Identifier: AGPL-3.0-or-later
import { consume } from '@lit/context';
import { Task, TaskStatus } from '@lit/task';
import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { VmInput, VmReport } from '../../src/analysis/types.js';
import type { PveClient } from '../../src/api/client.js';
import { apiClientContext, panelModeContext, type PanelMode } from '../context.js';
import type { DpApplyRequestEvent, DpFilterChangeEvent, DpIncludeHiddenEvent, DpJobEndEvent, DpJobStartedEvent, DpRollbackOpenEvent, DpSelectionChangeEvent, DpSortChangeEvent, DpVmSelectEvent } from '../events.js';
import { type JobsApi, type LeftOut, startBulkApply } from '../data/bulk-apply.js';
import { JobsClient, type JobView } from '../data/jobs.js';
import { type ExportFormat, download, exportShown } from '../data/export.js';
import { nodesOf } from '../data/filter.js';
import { type FleetAudit, type FleetLoadEvents, type FleetLoader, loadFleetAudit } from '../data/fleet-audit.js';
import { EMPTY_QUERY, type FleetQuery, type FleetRow, describeQuery, fleetRow } from '../data/fleet-query.js';
import { ShownRows } from '../data/shown-rows.js';
import { TaskCutOnDisconnect } from '../controllers/task-cut-on-disconnect.js';
import { planSelected } from '../data/plan.js';
import { type QueryStore, locationStore } from '../data/url-state.js';
import { QUICK_LABEL, S } from '../strings.js';
import { shared } from '../styles/shared.js';
import type { DpFleetTable } from './dp-fleet-table.js';
import '../components/dp-alert.js';
import '../components/dp-empty-state.js';
import '../components/dp-spinner.js';
import './dp-fleet-filter.js';
import './dp-fleet-table.js';
import './dp-job-list.js';
import './dp-job-progress.js';
import './dp-plan-preview.js';
import './dp-vm-detail.js';

/** During a load, arrived VMs and reassessed risks are folded into the rows at most this often (ms). */
const ROWS_EVERY_MS = 250;

/**
 * The fleet page: loads the audit (`@lit/task`, aborted when reloaded) and shows each VM as soon
 * as its config is read, with a counter; the risk evidence fills in afterwards. Loading, empty,
 * filtered-empty and error (with Retry) are distinct states. The filter, the sort and the open VM
 * live in the URL (`queryStore`). A VM's details and the plan preview open as dialogs; focus
 * returns to the row.
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
        font-variant-numeric: tabular-nums;
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
  /** The shim's jobs API (tests pass a fake); by default the shim's own when it can apply. */
  @property({ attribute: false }) jobs?: JobsApi;
  /** Where filter, sort and the open VM are kept: the page URL unless a host wants otherwise. */
  @property({ attribute: false }) queryStore: QueryStore = locationStore;

  @state() private _query: FleetQuery = EMPTY_QUERY;
  @state() private _selected: ReadonlySet<number> = new Set();
  @state() private _planFor: { vmids: ReadonlySet<number>; hidden: number[]; includeHidden: boolean } | null = null;
  @state() private _progress = { done: 0, total: 0 };
  @state() private _evidencePending = false;
  /** Bumped when rows arrive or their risk changes (the rows array itself is mutated). */
  @state() private _rowsVersion = 0;
  @state() private _applying = false;
  @state() private _applyError = '';
  /** The job followed above the table. */
  @state() private _job: { job: JobView; leftOut: readonly LeftOut[] } | null = null;
  /** Past runs window; `rollbackOf` opens it on one run's rollback form. */
  @state() private _runs: { rollbackOf: string } | null = null;
  private _jobsClient: JobsClient | null = null;

  private _rows: FleetRow[] = [];
  private _inputs = new Map<number, VmInput>();
  private _shown: FleetRow[] = [];
  private readonly _shownRows = new ShownRows();
  /** Nodes offered by the filter, recomputed when rows change (not per keystroke). */
  private _nodes: { version: number; nodes: string[] } = { version: -1, nodes: [] };
  private _flush = 0;
  private _flushTimer: ReturnType<typeof setTimeout> | 0 = 0;
  private _lastFlush = 0;

  private readonly _task = new Task(this, {
    task: async ([loader, client], { signal }) => {
      this._rows = [];
      this._inputs = new Map();
      this._arrived = [];
      this._reassessed = [];
      this._rowOf = new Map();
      this._progress = { done: 0, total: 0 };
      this._evidencePending = false;
      this._rowsVersion++;
      const events: FleetLoadEvents = {
        // Thousands of callbacks: the view repaints at most once per frame.
        onProgress: (done, total) => {
          this._progressLive = { done, total };
          this._scheduleFlush();
        },
        onVm: (report, input) => {
          this._arrived.push([report, input]);
          this._scheduleFlush();
        },
        onEvidence: () => {
          this._evidencePending = true;
        },
        onRisk: (report) => {
          this._reassessed.push(report);
          this._scheduleFlush();
        },
      };
      let audit: FleetAudit;
      if (loader) audit = await loader(signal, events);
      else if (client) audit = await loadFleetAudit(client, { signal, ...events });
      else throw new Error('no API client');
      this._flushNow();
      this._setAudit(audit);
      return audit;
    },
    args: () => [this.loader, this.client] as const,
  });

  private _progressLive = { done: 0, total: 0 };
  private _arrived: [VmReport, VmInput][] = [];
  /** Reports whose risk the evidence reassessed since the last frame (updated in place). */
  private _reassessed: VmReport[] = [];
  private _rowOf = new Map<VmReport, FleetRow>();

  constructor() {
    super();
    // At 5,000 VMs a load goes on for seconds: a view taken off the page stops reading.
    new TaskCutOnDisconnect(this, this._task, 'the fleet view left the page', () => this.reload());
  }

  override connectedCallback(): void {
    // Before super: the load cut when the view left the page (below) runs again from the
    // controller's hostConnected, with the query as the URL says now.
    this._query = this.queryStore.read();
    super.connectedCallback();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this._flush);
    clearTimeout(this._flushTimer);
    this._flush = this._flushTimer = 0;
  }

  /** Loads again (Reload button, Retry). */
  reload(): void {
    void this._task.run();
  }

  /** Rows the table shows now (filtered and sorted), for tests and hosts. */
  get shownRows(): readonly FleetRow[] {
    return this._shown;
  }

  /**
   * Folds what arrived into the rows at the next frame, and during a load at most every
   * `ROWS_EVERY_MS`: each fold re-sorts and re-filters the fleet and re-lays out the grid, which
   * at 5,000 VMs and a frame each would keep the tab busy while it should be sending requests.
   * The first rows come at the next frame.
   */
  private _scheduleFlush(): void {
    if (this._flush || this._flushTimer) return;
    const wait = this._rows.length === 0 ? 0 : this._lastFlush + ROWS_EVERY_MS - performance.now();
    if (wait <= 0) this._flush = requestAnimationFrame(() => this._flushNow());
    else {
      this._flushTimer = setTimeout(() => {
        this._flushTimer = 0;
        this._flush = requestAnimationFrame(() => this._flushNow());
      }, wait);
    }
  }

  private _flushNow(): void {
    cancelAnimationFrame(this._flush);
    clearTimeout(this._flushTimer);
    this._flush = this._flushTimer = 0;
    this._lastFlush = performance.now();
    this._progress = this._progressLive;
    if (this._arrived.length === 0 && this._reassessed.length === 0) return;
    for (const [report, input] of this._arrived) {
      this._inputs.set(input.vmid, input);
      const row = { ...fleetRow(report, input), preliminary: true };
      this._rowOf.set(report, row);
      this._rows.push(row);
    }
    // The risk changed in the report itself; only the mark and the sort/filter need a refresh.
    for (const report of this._reassessed) {
      const row = this._rowOf.get(report);
      if (row) row.preliminary = false;
    }
    this._arrived = [];
    this._reassessed = [];
    this._rowsVersion++;
  }

  /** The finished audit: its reports carry the risk with evidence. */
  private _setAudit(audit: FleetAudit): void {
    const inputs = new Map(audit.inputs.map((i) => [i.vmid, i]));
    this._inputs = inputs;
    // Rows handed during the load already hold the final reports (reassessed in place): kept as
    // they are, so the end of a 5,000-VM load is not one more long task.
    const kept = audit.report.vms.length === this._rows.length && audit.report.vms.every((vm) => this._rowOf.has(vm));
    if (kept) for (const row of this._rows) row.preliminary = false;
    else this._rows = audit.report.vms.map((vm) => fleetRow(vm, inputs.get(vm.vmid)));
    this._rowOf = new Map();
    this._evidencePending = false;
    this._rowsVersion++;
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('queryStore') && changed.get('queryStore') !== undefined) this._query = this.queryStore.read();
    this._shown = this._shownRows.get(this._rows, this._rowsVersion, this._query);
    if (this._nodes.version !== this._rowsVersion) this._nodes = { version: this._rowsVersion, nodes: nodesOf(this._rows.map((r) => r.vm)) };
  }

  private _setQuery(q: FleetQuery): void {
    const old = this._query;
    this._query = q;
    this.queryStore.write(q);
    const relisted =
      q.text !== old.text || q.node !== old.node || q.risk !== old.risk || q.quick.join() !== old.quick.join() || q.sort.key !== old.sort.key || q.sort.dir !== old.sort.dir;
    if (relisted) void this.updateComplete.then(() => this.renderRoot.querySelector<DpFleetTable>('dp-fleet-table')?.scrollToTop());
  }

  override render() {
    // One template for every state: the job followed above the table stays the same element
    // while the fleet reloads after it.
    return html`${this._jobArea()}${this._body()}`;
  }

  private _body() {
    const status = this._task.status;
    if (status === TaskStatus.ERROR) {
      return html`<dp-alert variant="error" heading=${S.loadError} retry @dp-retry=${() => this.reload()}>${errorText(this._task.error)}</dp-alert>`;
    }
    const loading = status !== TaskStatus.COMPLETE;
    if (loading && this._rows.length === 0) {
      const { done, total } = this._progress;
      return html`<dp-spinner label=${total ? S.loading(done, total) : S.loadingConfig} .done=${done} .total=${total}></dp-spinner>`;
    }
    return this._fleet(loading ? null : this._task.value!);
  }

  /** The jobs API when this panel may write (a writable shim), else null. */
  private get _jobsApi(): JobsApi | null {
    if (this.mode.readOnly || !this.mode.canApply) return null;
    if (this.jobs) return this.jobs;
    this._jobsClient ??= new JobsClient({ csrfToken: this.mode.csrfToken });
    return this._jobsClient;
  }

  private _jobArea() {
    const jobs = this._jobsApi;
    return html`${this._applyError
      ? html`<dp-alert variant="error" class="apply-result" heading=${S.applyFailed}>${this._applyError}</dp-alert>`
      : nothing}
    ${this._job && jobs
      ? html`<dp-job-progress
          .jobs=${jobs}
          .job=${this._job.job}
          .leftOut=${this._job.leftOut}
          @dp-job-end=${(e: DpJobEndEvent) => this._onJobEnd(e)}
          @dp-rollback-open=${(e: DpRollbackOpenEvent) => (this._runs = { rollbackOf: e.jobId })}
          @dp-close=${(e: Event) => {
            e.stopPropagation();
            this._job = null;
          }}
        ></dp-job-progress>`
      : nothing}`;
  }

  private async _onApply(e: DpApplyRequestEvent): Promise<void> {
    const jobs = this._jobsApi;
    if (!jobs) return;
    this._applying = true;
    this._applyError = '';
    try {
      const started = await startBulkApply(jobs, e.plan, e.vmids, { reboot: e.reboot, perNode: e.perNode });
      this._planFor = null;
      if (started.job) this._job = { job: started.job, leftOut: started.leftOut };
      else this._applyError = `${S.nothingStarted}: ${started.leftOut.map((l) => `VM ${l.vmid}: ${l.reason}`).join('; ')}`;
    } catch (err) {
      this._applyError = errorText(err);
    } finally {
      this._applying = false;
    }
  }

  /** Jobs whose end already reloaded the fleet (a re-subscribed stream ends again). */
  private readonly _reloadedFor = new Set<string>();

  private _onJobEnd(e: DpJobEndEvent): void {
    if (this._reloadedFor.has(e.job.id)) return;
    this._reloadedFor.add(e.job.id);
    // The fleet as it is now: written values show as pending (dark orange).
    this.reload();
  }

  private _onJobStarted(e: DpJobStartedEvent): void {
    this._runs = null;
    this._job = { job: e.job, leftOut: e.leftOut };
  }

  /** The toolbar, table and dialogs; `audit` is null while the load still runs. */
  private _fleet(audit: FleetAudit | null) {
    const all = this._rows;
    const head = audit ? this._notes(audit) : nothing;
    if (audit && all.length === 0) {
      return html`${head}<dp-empty-state>${S.emptyFleet}<button slot="action" @click=${() => this.reload()}>${S.refresh}</button></dp-empty-state>`;
    }
    const shown = this._shown;
    // Nothing ticked (the usual keystroke): no pass over the shown rows.
    const shownIds = this._selected.size === 0 ? null : new Set(shown.map((r) => r.vm.vmid));
    const tickedShown = shownIds ? [...this._selected].filter((id) => shownIds.has(id)) : [];
    const { done, total } = this._progress;
    const counter = !audit
      ? this._evidencePending
        ? `${S.shownCount(shown.length, all.length)} · ${S.evidenceReading}`
        : S.readCount(done, total)
      : S.shownCount(shown.length, all.length);
    const detailRow = this._query.vm === null ? null : (all.find((r) => r.vm.vmid === this._query.vm) ?? null);
    return html`
      ${head}
      <div class="toolbar">
        <dp-fleet-filter .nodes=${this._nodes.nodes} .filter=${this._query} @dp-filter-change=${(e: DpFilterChangeEvent) => this._setQuery({ ...this._query, ...e.filter })}></dp-fleet-filter>
        <span class="count" role="status">${counter}</span>
        <span class="spacer"></span>
        <button class="primary plan" ?disabled=${!audit || tickedShown.length === 0} @click=${() => this._openPlan(tickedShown)}>${S.planSelected(tickedShown.length)}</button>
        ${this._jobsApi ? html`<button class="runs" @click=${() => (this._runs = { rollbackOf: '' })}>${S.pastRuns}</button>` : nothing}
        <button class="export-csv" @click=${() => this._export('csv', audit)}>${S.exportCsv}</button>
        <button class="export-json" @click=${() => this._export('json', audit)}>${S.exportJson}</button>
        <button class="reload" @click=${() => this.reload()}>${S.refresh}</button>
      </div>
      ${shown.length === 0
        ? html`<dp-empty-state class="filtered-empty"
            >${S.filteredEmpty(describeQuery(this._query, QUICK_LABEL))}
            <button slot="action" @click=${() => this._setQuery({ ...EMPTY_QUERY, sort: this._query.sort })}>${S.clearFilter}</button></dp-empty-state
          >`
        : html`<dp-fleet-table
            .rows=${shown}
            .selected=${this._selected}
            .current=${this._query.vm}
            .sort=${this._query.sort}
            ?evidencePending=${!audit}
            @dp-selection-change=${(e: DpSelectionChangeEvent) => (this._selected = e.vmids)}
            @dp-sort-change=${(e: DpSortChangeEvent) => this._setQuery({ ...this._query, sort: e.sort })}
            @dp-vm-select=${(e: DpVmSelectEvent) => this._setQuery({ ...this._query, vm: e.vmid })}
          ></dp-fleet-table>`}
      ${detailRow ? html`<dp-vm-detail
            .row=${detailRow}
            @dp-close=${(e: Event) => {
              e.stopPropagation();
              void this._closeDetail();
            }}
          ></dp-vm-detail>` : nothing}
      ${audit && this._planFor ? this._plan(audit, this._planFor) : nothing}
      ${this._runs && this._jobsApi
        ? html`<dp-job-list
            .jobs=${this._jobsApi}
            rollbackOf=${this._runs.rollbackOf}
            @dp-job-started=${(e: DpJobStartedEvent) => this._onJobStarted(e)}
            @dp-close=${(e: Event) => {
              e.stopPropagation();
              this._runs = null;
            }}
          ></dp-job-list>`
        : nothing}
    `;
  }

  private _plan(audit: FleetAudit, p: NonNullable<DpFleetView['_planFor']>) {
    const vmids = new Set([...p.vmids, ...(p.includeHidden ? p.hidden : [])]);
    const byId = new Map(this._rows.map((r) => [r.vm.vmid, r.vm]));
    const hidden = p.hidden.map((id) => byId.get(id)).filter((vm): vm is VmReport => vm !== undefined);
    return html`<dp-plan-preview
      .plan=${planSelected(audit, vmids)}
      .hiddenTicked=${hidden}
      .reports=${byId}
      ?includeHidden=${p.includeHidden}
      ?readOnly=${this.mode.readOnly}
      readOnlyReason=${this.mode.readOnlyReason}
      ?canApply=${this._jobsApi !== null}
      ?canReboot=${this._jobsApi !== null}
      ?applying=${this._applying}
      upstream=${this.mode.upstream}
      @dp-include-hidden=${(e: DpIncludeHiddenEvent) => (this._planFor = { ...p, includeHidden: e.include })}
      @dp-apply-request=${(ev: DpApplyRequestEvent) => void this._onApply(ev)}
      @dp-close=${(e: Event) => {
        e.stopPropagation();
        void this._closePlan();
      }}
    ></dp-plan-preview>`;
  }

  private _notes(audit: FleetAudit) {
    const problems = audit.report.errors;
    const notes = [...audit.report.assumptions, ...(audit.report.warnings ?? []).map((w) => `${w.source ? `${w.source}: ` : ''}${w.message}`)];
    return html`${problems.length
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
  }

  private _openPlan(tickedShown: number[]): void {
    const shown = new Set(tickedShown);
    const hidden = [...this._selected].filter((id) => !shown.has(id)).sort((a, b) => a - b);
    this._planFor = { vmids: shown, hidden, includeHidden: false };
  }

  private async _closePlan(): Promise<void> {
    this._planFor = null;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLButtonElement>('button.plan')?.focus();
  }

  private async _closeDetail(): Promise<void> {
    const vmid = this._query.vm;
    this._setQuery({ ...this._query, vm: null });
    await this.updateComplete;
    const table = this.renderRoot.querySelector<DpFleetTable>('dp-fleet-table');
    if (vmid !== null && table) await table.focusRow(vmid);
  }

  private _export(format: ExportFormat, audit: FleetAudit | null): void {
    download(exportShown(this._shown.map((r) => r.vm), { assumptions: audit?.report.assumptions ?? [] }, format));
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
