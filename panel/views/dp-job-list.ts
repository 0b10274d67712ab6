// SPDX-License-Identifier: AGPL-3.0-or-later
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { type JobsApi, type RunChoice, countsText, runOutcome } from '../data/bulk-apply.js';
import { download } from '../data/export.js';
import type { JobView } from '../data/jobs.js';
import { DpCloseEvent, DpJobStartedEvent, type DpRebootChangeEvent } from '../events.js';
import { S } from '../strings.js';
import { shared } from '../styles/shared.js';
import '../components/dp-alert.js';
import '../components/dp-dialog.js';
import '../components/dp-reboot-choice.js';
import '../components/dp-spinner.js';

/**
 * Undo: the shim's past runs (applies and rollbacks) with their outcome, and Roll Back of a run,
 * all its VMs or the chosen ones, with the same reboot choice as an apply. Opens on one run's
 * rollback form when `rollbackOf` is set. A jobs API that can (the browser's, inside the PVE UI)
 * also offers Resume of an interrupted run and each run's journal as a download.
 * @fires dp-job-started - a rollback job was started, or a run resumed
 * @fires dp-close - the user closed the window
 */
@customElement('dp-job-list')
export class DpJobList extends LitElement {
  static override styles = [
    shared,
    css`
      td,
      th {
        white-space: nowrap;
      }
      td.counts {
        white-space: normal;
      }
      .vms {
        max-height: 14em;
        overflow: auto;
        border: 1px solid var(--dp-border);
        padding: 4px;
      }
      .vms label {
        display: block;
      }
    `,
  ];

  /** The jobs client. */
  @property({ attribute: false }) jobs!: JobsApi;
  /** Open directly on the rollback form of this job. */
  @property() rollbackOf = '';
  /** No Roll Back at all (read-only). */
  @property({ type: Boolean }) readOnly = false;

  @state() private _form: JobView | null = null;
  @state() private _chosen: ReadonlySet<number> = new Set();
  @state() private _choice: RunChoice = { reboot: 'never', perNode: 1 };
  @state() private _confirming = false;
  @state() private _error = '';
  @state() private _busy = false;

  private readonly _list = new Task(this, {
    task: async ([jobs], { signal }) => jobs.listJobs(signal),
    args: () => [this.jobs] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.rollbackOf) void this._openForm(this.rollbackOf);
  }

  override render() {
    return html`<dp-dialog heading=${this._form ? S.rollbackTitle(this._form.id) : S.pastRuns}>
      ${this._error ? html`<dp-alert variant="error">${this._error}</dp-alert>` : nothing}
      ${this._form ? this._rollbackForm(this._form) : this._runs()}
      <button slot="footer" @click=${() => this.dispatchEvent(new DpCloseEvent())}>${S.closeDetails}</button>
    </dp-dialog>`;
  }

  private _runs() {
    return this._list.render({
      pending: () => html`<dp-spinner></dp-spinner>`,
      error: (e) => html`<dp-alert variant="error">${e instanceof Error ? e.message : String(e)}</dp-alert>`,
      complete: (jobs) =>
        jobs.length === 0
          ? html`<p class="muted">${S.noRuns}</p>`
          : html`<table>
              <thead>
                <tr><th scope="col">Started</th><th scope="col">Run</th><th scope="col">User</th><th scope="col">Reboot</th><th scope="col">Outcome</th><th scope="col">VMs</th><th scope="col"><span class="muted">Actions</span></th></tr>
              </thead>
              <tbody>
                ${jobs.map(
                  (j) => html`<tr data-job=${j.id}>
                    <td>${new Date(j.createdAt).toLocaleString()}</td>
                    <td>${j.kind === 'rollback' ? `Rollback of ${j.source ?? '?'}` : 'Apply'} <code>${j.id}</code></td>
                    <td>${j.who}</td>
                    <td>${j.reboot}</td>
                    <td>${runOutcome(j)}</td>
                    <td class="counts">${countsText(j.counts)}</td>
                    <td>
                      ${!this.readOnly && j.kind === 'apply' && j.status !== 'running' && j.counts.written + j.counts.verified > 0
                        ? html`<button class="rollback" @click=${() => void this._openForm(j.id)}>${S.rollBack}</button>`
                        : nothing}
                      ${!this.readOnly && j.status === 'interrupted' && this.jobs.resume
                        ? html`<button class="resume" @click=${() => void this._resume(j.id)}>${S.resume}</button>`
                        : nothing}
                      ${this.jobs.journalText ? html`<button class="download" @click=${() => void this._download(j.id)}>${S.downloadJournal}</button>` : nothing}
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>`,
    });
  }

  private async _openForm(id: string): Promise<void> {
    this._error = '';
    try {
      const job = await this.jobs.getJob(id);
      this._form = job;
      this._chosen = new Set(job.vms.filter((v) => v.state === 'written' || v.state === 'verified').map((v) => v.vmid));
      this._confirming = false;
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    }
  }

  private _rollbackForm(job: JobView) {
    const candidates = job.vms.filter((v) => v.state === 'written' || v.state === 'verified');
    const chosen = candidates.filter((v) => this._chosen.has(v.vmid));
    const byNode = new Map<string, number>();
    for (const v of chosen) byNode.set(v.node ?? '?', (byNode.get(v.node ?? '?') ?? 0) + 1);
    const nodes = [...byNode].sort(([a], [b]) => a.localeCompare(b)).map(([n, c]) => `${n} (${c})`).join(', ');
    return html`<p>${S.rollbackHint}</p>
      <div class="vms" role="group" aria-label="VMs to roll back">
        ${candidates.map(
          (v) => html`<label
            ><input type="checkbox" name="vm" value=${v.vmid} .checked=${this._chosen.has(v.vmid)} @change=${(e: Event) => this._toggle(v.vmid, (e.target as HTMLInputElement).checked)} /> VM
            ${v.vmid} on ${v.node ?? '?'} (${v.state})</label
          >`,
        )}
      </div>
      <dp-reboot-choice reboot=${this._choice.reboot} .perNode=${this._choice.perNode} @dp-reboot-change=${(e: DpRebootChangeEvent) => (this._choice = e.choice)}></dp-reboot-choice>
      ${this._confirming
        ? html`<div class="confirm" role="alertdialog" aria-labelledby="rb-q">
            <p id="rb-q"><b>${S.rollbackConfirm(chosen.length, nodes)}</b></p>
            <button class="primary yes" ?disabled=${this._busy} @click=${() => void this._start(job, chosen.map((v) => v.vmid))}>${S.yes}</button>
            <button class="no" @click=${() => (this._confirming = false)}>${S.no}</button>
          </div>`
        : html`<button class="primary start-rollback" ?disabled=${chosen.length === 0} @click=${() => (this._confirming = true)}>${S.rollbackButton(chosen.length)}</button>
            <button class="back" @click=${() => (this._form = null)}>${S.pastRuns}</button>`}`;
  }

  private async _resume(id: string): Promise<void> {
    this._error = '';
    try {
      this.dispatchEvent(new DpJobStartedEvent(await this.jobs.resume!(id)));
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    }
  }

  private async _download(id: string): Promise<void> {
    download({ text: await this.jobs.journalText!(id), filename: `${id}.jsonl`, type: 'application/x-ndjson' });
  }

  private _toggle(vmid: number, on: boolean): void {
    const next = new Set(this._chosen);
    if (on) next.add(vmid);
    else next.delete(vmid);
    this._chosen = next;
  }

  private async _start(job: JobView, vmids: number[]): Promise<void> {
    this._busy = true;
    this._error = '';
    try {
      const started = await this.jobs.rollback(job.id, { reboot: this._choice.reboot, perNodeRebootConcurrency: this._choice.perNode, vmids });
      this.dispatchEvent(new DpJobStartedEvent(started));
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
      this._confirming = false;
    } finally {
      this._busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-job-list': DpJobList;
  }
}
