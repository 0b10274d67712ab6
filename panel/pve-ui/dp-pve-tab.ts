// SPDX-License-Identifier: AGPL-3.0-or-later
import { provide } from '@lit/context';
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { PveClient } from '../../src/api/client.js';
import { apiClientContext, inlineDialogsContext, panelModeContext, type PanelMode } from '../context.js';
import { ThemeController } from '../controllers/theme-controller.js';
import { type FleetAudit, type FleetLoader, loadFleetAudit } from '../data/fleet-audit.js';
import type { BrowserRunRequest } from '../data/idb-apply.js';
import { BrowserJobs } from '../data/browser-jobs.js';
import { IdbJournalStore, type JournalMeta } from '../data/idb-journal.js';
import type { JobView } from '../data/jobs.js';
import { fetchPermissions } from '../../src/api/endpoints/access.js';
import { unfinishedRun } from '../../src/migration/journal-model.js';
import type { DpApplyRequestEvent, DpJobStartedEvent, DpRollbackOpenEvent } from '../events.js';
import { shared } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';
import '../components/dp-alert.js';
import '../components/dp-spinner.js';
import '../views/dp-fleet-view.js';
import '../views/dp-job-list.js';
import '../views/dp-job-progress.js';
import './dp-pve-apply.js';
import './dp-pve-vm.js';
import { pageUserName, pveUiClient } from './pve-client.js';
import { fleetWriteAccess, vmWriteAccess } from './write-access.js';

/** Mode inside the PVE UI: no shim; Apply runs in the browser where the user's privileges allow it. */
const PVE_UI_MODE: PanelMode = { readOnly: false, readOnlyReason: '', upstream: '', canApply: false, csrfToken: '' };

/**
 * The "Disk I/O" tab inside the PVE web UI (the glue puts `<dp-pve-tab scope=…>` in the card):
 * the same elements as the standalone panel, on the user's own PVE session (same-origin
 * `/api2/json`, the browser's `PVEAuthCookie`, the page's CSRF token), in PVE's theme.
 * `scope="cluster"`: the fleet; `scope="node" node=…`: that node's VMs; `scope="vm" node=… vmid=…`:
 * that VM's disks, risk and fix. Apply runs in the browser with journals in IndexedDB: a VM's
 * through `<dp-pve-apply>`, a bulk apply of the fleet or a node through the fleet view's own
 * plan, progress and Past Runs on the browser's jobs (`BrowserJobs`). A run the page closed on is
 * offered for resume when the tab opens again.
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

  /** Journals shown: unfinished ones of this scope, the VM's latest, and those started here. */
  @state() private _runs: { meta: JournalMeta; start: BrowserRunRequest | null }[] = [];
  private _store?: Promise<IdbJournalStore>;
  private _storeValue?: IdbJournalStore;
  private readonly _theme = new ThemeController(this);

  /** The bulk apply's jobs (cluster and node scope), once the journals store is open. */
  @state() private _jobs: BrowserJobs | null = null;
  /** The bulk apply's jobs once the journals store and the user's privileges are read (null before, and in VM scope). */
  get jobs(): BrowserJobs | null {
    return this._jobs;
  }

  /** Bulk-apply jobs shown above the fleet: those of this scope the page closed on (each offered for resume), and rollbacks started from them. */
  @state() private _followed: JobView[] = [];
  /** The rollback window of a job shown above the fleet. */
  @state() private _rollbackOf = '';

  /** The fleet of this node only (one function per node: a new one would reload the view). */
  private _nodeLoader?: FleetLoader;

  override connectedCallback(): void {
    super.connectedCallback();
    // The preview's Apply runs here, in the browser. Capture on the shadow root runs before any
    // handler below (the fleet view's goes to the shim's jobs API, absent inside PVE), which then
    // never sees the event. The fleet view offers no Apply here yet (mode.canApply is false).
    this.renderRoot.addEventListener('dp-apply-request', this._onApplyRequest as EventListener, { capture: true });
  }

  override firstUpdated(): void {
    void this._loadJournals();
    if (this.scope !== 'vm') void this._loadJobs();
  }

  /** Bulk apply where the user may write to some VM; the jobs of this browser, interrupted ones shown. */
  private async _loadJobs(): Promise<void> {
    try {
      const [store, perms] = await Promise.all([this._journals(), fetchPermissions(this.client).catch(() => null)]);
      const jobs = new BrowserJobs(this.client, store, { who: pageUserName(), ...(this.engine ? { engine: this.engine } : {}) });
      this.mode = { ...PVE_UI_MODE, canApply: fleetWriteAccess(perms) };
      this._jobs = jobs;
      const interrupted: JobView[] = [];
      for (const item of await jobs.listJobs()) {
        if (item.status !== 'interrupted') continue;
        const job = await jobs.getJob(item.id);
        if (this.scope === 'cluster' || job.vms.some((v) => v.node === this.node)) interrupted.push(job);
      }
      this._followed = interrupted;
    } catch (err) {
      console.warn('pve-dataplane: jobs in IndexedDB not readable', err);
    }
  }

  private _journals(): Promise<IdbJournalStore> {
    this._store ??= (this.journalStore ?? IdbJournalStore.open()).then((s) => (this._storeValue = s));
    return this._store;
  }

  /** The journals this tab offers, newest first. */
  private async _loadJournals(): Promise<void> {
    try {
      const store = await this._journals();
      const shown: JournalMeta[] = [];
      for (const meta of await store.list()) {
        const mine = this.scope !== 'vm' || meta.vmids.includes(this.vmid);
        const onNode = this.scope !== 'node' || meta.plan.vms.some((v) => meta.vmids.includes(v.vmid) && v.node === this.node);
        if (!mine || !onNode) continue;
        const unfinished = unfinishedRun(await store.entries(meta.id)) !== null;
        // The VM's latest journal stays in reach for its download and rollback.
        const latestOfVm = this.scope === 'vm' && !shown.some((m) => m.vmids.includes(this.vmid));
        if (unfinished || latestOfVm) shown.push(meta);
      }
      const started = this._runs.filter((r) => !shown.some((m) => m.id === r.meta.id));
      this._runs = [...started, ...shown.map((meta) => ({ meta, start: null }))];
    } catch (err) {
      console.warn('pve-dataplane: journals in IndexedDB not readable', err);
    }
  }

  private readonly _onApplyRequest = (e: DpApplyRequestEvent): void => {
    // The fleet view applies through its jobs API (the browser's, given below).
    if (this.scope !== 'vm') return;
    e.stopPropagation();
    void this._startApply(e);
  };

  private async _startApply(e: DpApplyRequestEvent): Promise<void> {
    const store = await this._journals();
    const meta = await store.create({ plan: e.plan, vmids: [...e.vmids], reboot: e.reboot, perNode: e.perNode, user: pageUserName() });
    this._runs = [{ meta, start: { kind: 'apply', reboot: e.reboot } }, ...this._runs];
  }

  private _onRunEnd(): void {
    if (this.scope === 'vm') void this._vmAudit.run();
  }

  private _runsView() {
    if (this._runs.length === 0 || !this._storeValue) return nothing;
    const perms = this._vmAudit.value?.permissions ?? null;
    return html`${repeat(
      this._runs,
      (r) => r.meta.id,
      (r) => html`<dp-pve-apply
        .journal=${r.meta}
        .store=${this._storeValue!}
        .client=${this.client}
        .start=${r.start}
        .engine=${this.engine}
        ?canReboot=${this.scope === 'vm' && vmWriteAccess(perms, this.vmid).canReboot}
        @dp-run-end=${() => this._onRunEnd()}
      ></dp-pve-apply>`,
    )}`;
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

  override render() {
    return html`${this._runsView()}${this._followedView()}${this._view()}`;
  }

  private _followedView() {
    const jobs = this._jobs;
    if (!jobs || this._followed.length === 0) return nothing;
    return html`${repeat(
      this._followed,
      (j) => j.id,
      (j) => html`<dp-job-progress
        class="interrupted"
        .jobs=${jobs}
        .job=${j}
        ?readOnly=${!this.mode.canApply}
        @dp-job-end=${() => this.renderRoot.querySelector('dp-fleet-view')?.reload()}
        @dp-rollback-open=${(e: DpRollbackOpenEvent) => (this._rollbackOf = e.jobId)}
        @dp-close=${(e: Event) => {
          e.stopPropagation();
          this._followed = this._followed.filter((x) => x.id !== j.id);
        }}
      ></dp-job-progress>`,
    )}
    ${this._rollbackOf
      ? html`<dp-job-list
          .jobs=${jobs}
          rollbackOf=${this._rollbackOf}
          @dp-job-started=${(e: DpJobStartedEvent) => {
            this._rollbackOf = '';
            this._followed = [e.job, ...this._followed];
          }}
          @dp-close=${(e: Event) => {
            e.stopPropagation();
            this._rollbackOf = '';
          }}
        ></dp-job-list>`
      : nothing}`;
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
        audit ? html`<dp-pve-vm .audit=${audit} .vmid=${this.vmid} @dp-reload=${() => void this._vmAudit.run()}></dp-pve-vm>` : nothing,
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-pve-tab': DpPveTab;
  }
}
