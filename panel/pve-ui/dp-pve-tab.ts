// SPDX-License-Identifier: AGPL-3.0-or-later
import { provide } from '@lit/context';
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { PveClient } from '../../src/api/client.js';
import { fetchPermissions } from '../../src/api/endpoints/access.js';
import { apiClientContext, inlineDialogsContext, panelModeContext, type PanelMode } from '../context.js';
import { TaskCutOnDisconnect } from '../controllers/task-cut-on-disconnect.js';
import { ThemeController } from '../controllers/theme-controller.js';
import { BrowserJobs } from '../data/browser-jobs.js';
import { type LeftOut, startBulkApply } from '../data/bulk-apply.js';
import { download } from '../data/export.js';
import { type FleetAudit, type FleetLoader, loadFleetAudit } from '../data/fleet-audit.js';
import { IdbJournalStore, type JournalMeta, journalJsonl } from '../data/idb-journal.js';
import type { JobView } from '../data/jobs.js';
import type { DpApplyRequestEvent, DpJobEndEvent, DpJobStartedEvent, DpRollbackOpenEvent } from '../events.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';
import type { DpFleetView } from '../views/dp-fleet-view.js';
import '../components/dp-alert.js';
import '../components/dp-spinner.js';
import '../views/dp-fleet-view.js';
import '../views/dp-job-list.js';
import '../views/dp-job-progress.js';
import './dp-pve-vm.js';
import { pageUserName, pveUiClient } from './pve-client.js';
import { fleetWriteAccess, vmWriteAccess } from './write-access.js';

/** Mode inside the PVE UI: no shim; Apply runs in the browser where the user's privileges allow it. */
const PVE_UI_MODE: PanelMode = { readOnly: false, readOnlyReason: '', upstream: '', canApply: false, csrfToken: '' };

/** A job shown by the tab itself (above the fleet view, or the VM tab's runs). */
interface Followed {
  job: JobView;
  leftOut: readonly LeftOut[];
}

/**
 * The "Disk I/O" tab inside the PVE web UI (the glue puts `<dp-pve-tab scope=…>` in the card):
 * the same elements as the standalone panel, on the user's own PVE session (same-origin
 * `/api2/json`, the browser's `PVEAuthCookie`, the page's CSRF token), in PVE's theme.
 * `scope="cluster"`: the fleet; `scope="node" node=…`: that node's VMs; `scope="vm" node=… vmid=…`:
 * that VM's disks, risk and fix.
 *
 * Apply runs in the browser on the browser's jobs (`BrowserJobs`: the core's jobs, plans and
 * journals in IndexedDB), with the standalone panel's progress view: the fleet view's bulk apply
 * and Past Runs in the Datacenter and Node tabs, the plan preview's Apply in a VM's tab. A run the
 * page closed on is offered for resume when a tab of its scope opens again.
 */
@customElement('dp-pve-tab')
export class DpPveTab extends LitElement {
  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: block;
        box-sizing: border-box;
        min-height: 100%;
        padding: 10px 12px;
        background: var(--dp-bg);
      }
      details.legacy {
        margin-bottom: 8px;
      }
    `,
  ];

  @property() scope: 'cluster' | 'node' | 'vm' = 'cluster';
  @property() node = '';
  @property({ type: Number }) vmid = 0;

  /** Replaces the API load (tests). */
  @property({ attribute: false }) loader?: FleetLoader;

  @provide({ context: apiClientContext })
  client: PveClient = pveUiClient();

  @provide({ context: panelModeContext })
  mode: PanelMode = PVE_UI_MODE;

  /** VM scope: the VM's details and plan are the tab's content, not windows. */
  @provide({ context: inlineDialogsContext })
  inlineDialogs = false;

  /** Journals store (tests pass their own database). */
  @property({ attribute: false }) journalStore?: Promise<IdbJournalStore>;
  /** Engine timings for the runs (tests on the simulator's fast clock). */
  @property({ attribute: false }) engine: { pollMs?: number; powerTimeoutMs?: number } | undefined;

  @state() private _jobs: BrowserJobs | null = null;
  /** Jobs the tab shows itself: of this scope, those the page closed on, the VM's latest, and those started here. */
  @state() private _followed: Followed[] = [];
  /** The rollback window of a followed job. */
  @state() private _rollbackOf = '';
  @state() private _applyError = '';
  /** Why the browser's jobs are not available (IndexedDB not readable): Apply is off. */
  @state() private _jobsError = '';
  /** Journals of this scope written by earlier versions' VM tab (download only). */
  @state() private _legacy: JournalMeta[] = [];
  private _store?: IdbJournalStore;
  private readonly _theme = new ThemeController(this);

  /** The fleet of this node only (one function per node: a new one would reload the view). */
  private _nodeLoader?: FleetLoader;

  /** The jobs once the journals store and the user's privileges are read (null before). */
  get jobs(): BrowserJobs | null {
    return this._jobs;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // A VM's Apply runs here. Capture on the shadow root runs before any handler below, which
    // then never sees the event; the fleet view applies through its own jobs API (given below).
    this.renderRoot.addEventListener('dp-apply-request', this._onApplyRequest as EventListener, { capture: true });
  }

  override firstUpdated(): void {
    void this._loadJobs();
  }

  private _inScope(job: JobView): boolean {
    if (this.scope === 'node') return job.vms.some((v) => v.node === this.node);
    if (this.scope === 'vm') return job.vms.some((v) => v.vmid === this.vmid);
    return true;
  }

  /** The browser's jobs, Apply where the user may write to some VM, and the runs this tab shows. */
  private async _loadJobs(): Promise<void> {
    try {
      const [store, perms] = await Promise.all([this.journalStore ?? IdbJournalStore.open(), fetchPermissions(this.client).catch(() => null)]);
      this._store = store;
      const jobs = new BrowserJobs(this.client, store, { who: pageUserName(), ...(this.engine ? { engine: this.engine } : {}) });
      if (this.scope !== 'vm') this.mode = { ...PVE_UI_MODE, canApply: fleetWriteAccess(perms) };
      this._jobs = jobs;
      const shown: Followed[] = [];
      for (const item of await jobs.listJobs()) {
        const job = await jobs.getJob(item.id);
        if (!this._inScope(job)) continue;
        // The VM's latest run stays in reach for its journal and Roll Back.
        const latestOfVm = this.scope === 'vm' && !shown.some((f) => f.job.vms.some((v) => v.vmid === this.vmid));
        if (item.status === 'interrupted' || latestOfVm) shown.push({ job, leftOut: [] });
      }
      const started = this._followed.filter((f) => !shown.some((s) => s.job.id === f.job.id));
      this._followed = [...started, ...shown];
      this._legacy = (await store.list()).filter((m) => (this.scope === 'vm' ? m.vmids.includes(this.vmid) : this.scope === 'cluster' || m.plan.vms.some((v) => v.node === this.node)));
    } catch (err) {
      this._jobsError = err instanceof Error ? err.message : String(err);
    }
  }

  private readonly _onApplyRequest = (e: DpApplyRequestEvent): void => {
    if (this.scope !== 'vm') return;
    e.stopPropagation();
    void this._applyVm(e);
  };

  /** The VM tab's Apply: the previewed plan through the browser's jobs (a VM edited since is left out). */
  private async _applyVm(e: DpApplyRequestEvent): Promise<void> {
    const jobs = this._jobs;
    if (!jobs) return;
    this._applyError = '';
    try {
      const started = await startBulkApply(jobs, e.plan, e.vmids, { reboot: e.reboot, perNode: e.perNode });
      if (started.job) this._follow({ job: started.job, leftOut: started.leftOut });
      else this._applyError = `${S.nothingStarted}: ${started.leftOut.map((l) => `VM ${l.vmid}: ${l.reason}`).join('; ')}`;
    } catch (err) {
      this._applyError = err instanceof Error ? err.message : String(err);
    }
  }

  private _follow(f: Followed): void {
    this._followed = [f, ...this._followed.filter((x) => x.job.id !== f.job.id)];
  }

  /** A followed run ended: what is shown reads PVE again (written values show as pending). */
  private _onJobEnd(e: DpJobEndEvent): void {
    this._followed = this._followed.map((f) => (f.job.id === e.job.id ? { ...f, job: { ...f.job, ...e.job } } : f));
    if (this.scope === 'vm') void this._vmAudit.run();
    else this.renderRoot.querySelector<DpFleetView>('dp-fleet-view')?.reload();
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    this.inlineDialogs = this.scope === 'vm';
    if (changed.has('node') || changed.has('loader') || !this._nodeLoader) {
      const node = this.node;
      this._nodeLoader = this.loader ?? ((signal, events) => loadFleetAudit(this.client, { ...events, signal, node }));
    }
  }

  private readonly _vmAudit = new Task(this, {
    task: async ([scope, vmid, loader], { signal }): Promise<FleetAudit | null> => {
      if (scope !== 'vm') return null;
      if (loader) return loader(signal, {});
      return loadFleetAudit(this.client, { signal, vmids: [vmid] });
    },
    args: () => [this.scope, this.vmid, this.loader] as const,
  });
  constructor() {
    super();
    // Picking another VM in PVE's tree takes this tab off the page: its read stops.
    new TaskCutOnDisconnect(this, this._vmAudit, 'the VM tab left the page');
  }

  override render() {
    return html`${this._runsView()}${this._legacyView()}${this._view()}`;
  }

  /** May the user act on the followed runs (Cancel, Resume, Roll Back)? */
  private get _canAct(): boolean {
    if (this.scope !== 'vm') return this.mode.canApply;
    return vmWriteAccess(this._vmAudit.value?.permissions ?? null, this.vmid).canWrite;
  }

  private _runsView() {
    const jobs = this._jobs;
    if (this._jobsError) return html`<dp-alert variant="warning" class="jobs-error" heading=${S.applyOff}>${this._jobsError}</dp-alert>`;
    if (!jobs) return nothing;
    return html`${this._applyError ? html`<dp-alert variant="error" class="apply-result" heading=${S.applyFailed}>${this._applyError}</dp-alert>` : nothing}
      ${repeat(
        this._followed,
        (f) => f.job.id,
        (f) => html`<dp-job-progress
          .jobs=${jobs}
          .job=${f.job}
          .leftOut=${f.leftOut}
          ?readOnly=${!this._canAct}
          @dp-job-end=${(e: DpJobEndEvent) => this._onJobEnd(e)}
          @dp-rollback-open=${(e: DpRollbackOpenEvent) => (this._rollbackOf = e.jobId)}
          @dp-close=${(e: Event) => {
            e.stopPropagation();
            this._followed = this._followed.filter((x) => x.job.id !== f.job.id);
          }}
        ></dp-job-progress>`,
      )}
      ${this._rollbackOf
        ? html`<dp-job-list
            .jobs=${jobs}
            rollbackOf=${this._rollbackOf}
            @dp-job-started=${(e: DpJobStartedEvent) => {
              this._rollbackOf = '';
              this._follow({ job: e.job, leftOut: e.leftOut });
            }}
            @dp-close=${(e: Event) => {
              e.stopPropagation();
              this._rollbackOf = '';
            }}
          ></dp-job-list>`
        : nothing}`;
  }

  /** Journals of earlier versions' VM tab: their JSONL for `pve-dataplane rollback --journal`. */
  private _legacyView() {
    const store = this._store;
    if (!store || this._legacy.length === 0) return nothing;
    const save = async (m: JournalMeta) => download({ text: journalJsonl(await store.entries(m.id)), filename: `${m.id}.jsonl`, type: 'application/x-ndjson' });
    return html`<details class="legacy">
      <summary>${S.legacyJournals(this._legacy.length)}</summary>
      <ul>
        ${this._legacy.map(
          (m) => html`<li>
            ${new Date(m.created).toLocaleString()} · ${m.user} · VM ${m.vmids.join(', ')}
            <button class="download-legacy" @click=${() => void save(m)}>${S.downloadJournal}</button>
          </li>`,
        )}
      </ul>
    </details>`;
  }

  private _view() {
    const jobs = this._jobs ?? undefined;
    if (this.scope === 'cluster') return html`<dp-fleet-view .loader=${this.loader} .jobs=${jobs}></dp-fleet-view>`;
    if (this.scope === 'node') return html`<dp-fleet-view .loader=${this._nodeLoader} .jobs=${jobs}></dp-fleet-view>`;
    return this._vmAudit.render({
      initial: () => html`<dp-spinner></dp-spinner>`,
      pending: () => html`<dp-spinner></dp-spinner>`,
      error: (err) =>
        html`<dp-alert variant="error" heading="Could not read VM ${this.vmid}" retry @dp-retry=${() => void this._vmAudit.run()}
          >${err instanceof Error ? err.message : String(err)}</dp-alert
        >`,
      complete: (audit) =>
        audit
          ? html`<dp-pve-vm
              .audit=${audit}
              .vmid=${this.vmid}
              ?applying=${this._followed.some((f) => f.job.status === 'running')}
              @dp-reload=${() => void this._vmAudit.run()}
            ></dp-pve-vm>`
          : nothing,
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-pve-tab': DpPveTab;
  }
}
