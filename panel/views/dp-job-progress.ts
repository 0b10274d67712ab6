// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { type JobsApi, type LeftOut, countsText, runOutcome, vmStateText } from '../data/bulk-apply.js';
import { download } from '../data/export.js';
import type { JobListItem, JobView, VmJobView } from '../data/jobs.js';
import { DpCloseEvent, DpJobEndEvent, DpRollbackOpenEvent } from '../events.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';
import { itemList, itemListStyles } from '../components/item-list.js';
import '../components/dp-alert.js';

/** Jobs of up to this many VMs list every line in place (they fit below the virtualizer's 260 px box). */
const FEW_VMS = 12;

/**
 * A job as it runs on the shim: counts, a progress bar, every VM's state live (queued, writing,
 * written and pending a cold start, rebooting, verified, skipped or failed with the reason),
 * Cancel (the VMs in flight finish, no other starts), and the summary at the end with the
 * journal and Roll Back. Follows the job's event stream; a closed tab loses nothing (the job
 * runs on the shim). A jobs API that can (the browser's, inside the PVE UI) also offers Resume of
 * an interrupted job and the journal as a download.
 * @fires dp-job-end - the job ended (the fleet changed)
 * @fires dp-rollback-open - the user asked to roll this job back
 * @fires dp-close - the user dismissed the finished job
 */
@customElement('dp-job-progress')
export class DpJobProgress extends LitElement {
  static override styles = [
    shared,
    itemListStyles,
    css`
      :host {
        display: block;
        --dp-item-list-height: min(30vh, 260px);
        border: 1px solid var(--dp-border);
        background: var(--dp-panel-bg);
        padding: 8px 10px;
        margin-bottom: 8px;
      }
      .head {
        display: flex;
        gap: 8px;
        align-items: center;
        flex-wrap: wrap;
      }
      .head h2 {
        margin: 0;
        flex: 1;
      }
      progress {
        width: 100%;
        height: 8px;
      }
      .vm {
        width: 100%;
        padding: 2px 6px;
        box-sizing: border-box;
        border-bottom: 1px solid var(--dp-border);
      }
      .vm[data-state='failed'] {
        background: var(--dp-invalid-row);
      }
      .vm[data-state='skipped'] {
        color: var(--dp-text-muted);
      }
      .vm[data-state='written'] .state {
        color: var(--dp-pending, #b45309);
      }
    `,
  ];

  /** The jobs client. */
  @property({ attribute: false }) jobs!: JobsApi;
  /** The job as started (or as listed); updated live. */
  @property({ attribute: false }) job!: JobView;
  /** VMs left out before the job started (changed since the preview). */
  @property({ attribute: false }) leftOut: readonly LeftOut[] = [];
  /** Hide Cancel and Roll Back (read-only). */
  @property({ type: Boolean }) readOnly = false;

  @state() private _head: JobListItem | null = null;
  @state() private _vms: VmJobView[] = [];
  @state() private _ended = false;
  @state() private _error = '';
  private _stop: (() => void) | null = null;
  private _byId = new Map<number, number>();

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.job) this._follow(this.job);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._stop?.();
    this._stop = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // The owner may hand over another job (a rollback started from this one's summary).
    const before = changed.get('job');
    if (changed.has('job') && before !== undefined && before.id !== this.job.id && this.isConnected) this._follow(this.job);
  }

  /** Shows `job` and, while it runs, follows its event stream. */
  private _follow(job: JobView): void {
    this._stop?.();
    this._stop = null;
    this._ended = false;
    this._error = '';
    this._take(job);
    if (job.status !== 'running') return;
    this._stop = this.jobs.subscribe(job.id, {
      onSnapshot: (j) => this._take(j),
      onVm: (vm) => {
        const i = this._byId.get(vm.vmid);
        const next = [...this._vms];
        if (i === undefined) {
          this._byId.set(vm.vmid, next.length);
          next.push(vm);
        } else next[i] = vm;
        this._vms = next;
      },
      onJob: (j) => (this._head = j),
      onSummary: (j) => {
        this._head = j;
        this._ended = true;
        // The final states of every VM (the stream may have skipped repeats).
        void this.jobs.getJob(j.id).then((full) => this._take(full), () => {});
        this.dispatchEvent(new DpJobEndEvent(j));
      },
      onError: (err) => (this._error = err.message),
    });
  }

  private _take(job: JobView): void {
    const { vms, ...head } = job;
    this._head = head;
    this._vms = vms;
    this._byId = new Map(vms.map((v, i) => [v.vmid, i]));
    if (job.status !== 'running') this._ended = true;
  }

  override render() {
    const head = this._head ?? this.job;
    const total = this._vms.length;
    const counts = Object.fromEntries(['queued', 'writing', 'written', 'rebooting', 'verified', 'skipped', 'failed'].map((s) => [s, 0])) as JobListItem['counts'];
    for (const vm of this._vms) counts[vm.state]++;
    const busy = counts.queued + counts.writing + counts.rebooting;
    const kind = head.kind === 'rollback' ? S.rollbackJob : S.applyJob;
    return html`
      <div class="head">
        <h2>${kind} ${head.id}: ${this._ended ? runOutcome(head) : head.cancelRequested ? S.cancelling : S.running}</h2>
        ${!this._ended && !this.readOnly && !head.cancelRequested ? html`<button class="cancel" @click=${this._onCancel}>${S.cancel}</button>` : nothing}
        ${this._ended && !this.readOnly && head.kind === 'apply' && counts.written + counts.verified > 0
          ? html`<button class="rollback" @click=${() => this.dispatchEvent(new DpRollbackOpenEvent(head.id))}>${S.rollBack}</button>`
          : nothing}
 ${this._ended && !this.readOnly && head.status === 'interrupted' && this.jobs.resume
          ? html`<button class="resume" @click=${this._onResume}>${S.resume}</button>`
          : nothing}
        ${this._ended ? html`<button class="dismiss" @click=${() => this.dispatchEvent(new DpCloseEvent())}>${S.closeDetails}</button>` : nothing}
      </div>
      <progress max=${total || 1} value=${total - busy} aria-label=${S.jobProgress}></progress>
      <p class="counts" role="status">${countsText(counts)}${head.reboot !== 'never' ? ` · reboot ${head.reboot}, ${head.perNodeRebootConcurrency} per node` : ''}</p>
      ${this._error ? html`<dp-alert variant="warning">${this._error}</dp-alert>` : nothing}
      ${this.leftOut.length
        ? html`<dp-alert variant="warning" class="left-out" heading=${S.leftOut(this.leftOut.length)}
            ><ul>
              ${this.leftOut.map((l) => html`<li>VM ${l.vmid}${l.node ? ` on ${l.node}` : ''}: ${l.reason}</li>`)}
            </ul></dp-alert
          >`
        : nothing}
      ${this._ended
        ? html`<p class="journal">
            ${S.applyJournal}: <code>${head.journal}</code>
            ${this.jobs.journalText ? html`<button class="download" @click=${this._onDownload}>${S.downloadJournal}</button>` : nothing}
          </p>`
        : nothing}
      ${itemList({ items: this._vms, inPlaceMax: FEW_VMS, label: S.jobVms, key: (vm) => vm.vmid, render: (vm) => this._vmLine(vm) })}
    `;
  }

  private _vmLine(vm: VmJobView) {
    return html`<div class="vm" role="listitem" data-vmid=${vm.vmid} data-state=${vm.state}>VM ${vm.vmid}${vm.node ? ` on ${vm.node}` : ''}: <span class="state">${vmStateText(vm)}</span></div>`;
  }

  private readonly _onResume = async (): Promise<void> => {
    try {
      this._follow(await this.jobs.resume!(this.job.id));
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    }
  };

  private readonly _onDownload = async (): Promise<void> => {
    const text = await this.jobs.journalText!(this.job.id);
    download({ text, filename: `${this.job.id}.jsonl`, type: 'application/x-ndjson' });
  };

  private async _onCancel(): Promise<void> {
    try {
      const job = await this.jobs.cancel(this.job.id);
      this._head = { ...(this._head ?? job), cancelRequested: true };
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-job-progress': DpJobProgress;
  }
}
