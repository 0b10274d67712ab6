// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { PveClient } from '../../src/api/client.js';
import type { JournalEntry, RebootPolicy } from '../../src/migration/journal-model.js';
import type { EngineEvent } from '../../src/migration/runner.js';
import { type BrowserRunRequest, journalProgress, journalState, runJournal } from '../data/idb-apply.js';
import { type IdbJournalStore, type JournalMeta, journalJsonl } from '../data/idb-journal.js';
import { OUTCOME_LABEL, S } from '../strings.js';
import { shared } from '../styles/shared.js';
import '../components/dp-alert.js';

/** A run of a journal ended (configs changed: the owner reloads what it shows). */
export class DpRunEndEvent extends Event {
  static readonly eventName = 'dp-run-end';
  constructor(readonly journalId: string) {
    super(DpRunEndEvent.eventName, { bubbles: true, composed: true });
  }
}


/**
 * One apply inside the PVE web UI and its journal in IndexedDB: per-VM progress, Cancel (the VMs
 * in flight finish, no other starts), Resume of a run the tab closed on, the journal as the JSONL
 * `pve-dataplane rollback --journal` reads, and Roll back. The run uses the user's own PVE
 * session; PVE checks every request against their privileges.
 * @fires dp-run-end - a run of this journal ended (or stopped on an error)
 */
@customElement('dp-pve-apply')
export class DpPveApply extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        border: 1px solid var(--dp-border);
        background: var(--dp-panel-bg);
        padding: 8px 10px;
        margin-bottom: 10px;
      }
      h3 {
        margin: 0 0 6px;
        font-size: 13px;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        margin: 6px 0;
      }
      td,
      th {
        text-align: left;
        padding: 2px 6px;
        border-bottom: 1px solid var(--dp-border);
        vertical-align: top;
      }
      td.state {
        white-space: nowrap;
      }
      tr[data-result='failed'] td.state {
        color: var(--dp-danger, #c00);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        align-items: center;
        margin-top: 6px;
      }
      fieldset {
        border: 1px solid var(--dp-border);
        margin: 6px 0;
      }
    `,
  ];

  /** The journal shown (and run). */
  @property({ attribute: false }) journal!: JournalMeta;
  /** Where journals live. */
  @property({ attribute: false }) store!: IdbJournalStore;
  /** The user's PVE client (same origin, their session). */
  @property({ attribute: false }) client!: PveClient;
  /** Offer the reboot choices of a rollback (VM.PowerMgmt). */
  @property({ type: Boolean }) canReboot = false;
  /** A run to start once shown (the Apply just confirmed). */
  @property({ attribute: false }) start: BrowserRunRequest | null = null;
  /** Engine timings (tests on the simulator's fast clock). */
  @property({ attribute: false }) engine: { pollMs?: number; powerTimeoutMs?: number } | undefined;

  @state() private _entries: JournalEntry[] = [];
  @state() private _running: 'apply' | 'rollback' | null = null;
  @state() private _steps = new Map<number, string>();
  @state() private _cancelled = false;
  @state() private _error = '';
  @state() private _confirmRollback = false;
  @state() private _rollbackReboot: RebootPolicy = 'never';

  override connectedCallback(): void {
    super.connectedCallback();
    void this._load().then(() => {
      const start = this.start;
      this.start = null;
      if (start) void this._run(start);
    });
  }

  private async _load(): Promise<void> {
    this._entries = await this.store.entries(this.journal.id);
  }

  private _onEvent = (e: EngineEvent): void => {
    if (e.type === 'vm-step') this._steps = new Map(this._steps).set(e.vmid, e.message);
    if (e.type === 'vm-done') {
      const steps = new Map(this._steps);
      steps.delete(e.result.vmid);
      this._steps = steps;
      void this._load();
    }
  };

  private async _run(req: BrowserRunRequest): Promise<void> {
    if (this._running) return;
    this._running = req.kind;
    this._cancelled = false;
    this._error = '';
    this._steps = new Map();
    try {
      await runJournal(this.client, this.store, this.journal, req, {
        onEvent: this._onEvent,
        cancelled: () => this._cancelled,
        ...(this.engine ? { engine: this.engine } : {}),
      });
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    } finally {
      this._running = null;
      this._steps = new Map();
      await this._load();
      this.dispatchEvent(new DpRunEndEvent(this.journal.id));
    }
  }

  private _download(): void {
    const blob = new Blob([journalJsonl(this._entries)], { type: 'application/x-ndjson' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${this.journal.id}.jsonl`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  override render() {
    const m = this.journal;
    const { unfinished, rollbackable } = journalState(this._entries);
    const rows = journalProgress(m, this._entries);
    const kind = this._running ?? unfinished;
    return html`<h3>
        ${kind === 'rollback' ? 'Rollback' : 'Apply'} in this browser · ${new Date(m.created).toLocaleString()} · ${m.user} · reboot: ${m.reboot}
      </h3>
      ${unfinished && !this._running
        ? html`<dp-alert variant="warning" class="unfinished" heading="This ${unfinished} did not finish"
            >The page was closed or reloaded while it ran. Resume continues it from the journal kept in this browser: what PVE already has is not
            written again, a write left in flight is checked against PVE first.</dp-alert
          >`
        : nothing}
      ${this._error ? html`<dp-alert variant="error" class="error" heading="Stopped">${this._error}</dp-alert>` : nothing}
      <table>
        <thead>
          <tr><th scope="col">VM</th><th scope="col">Node</th><th scope="col">State</th><th scope="col">Detail</th></tr>
        </thead>
        <tbody>
          ${rows.map((r) => {
            const step = this._steps.get(r.vmid);
            return html`<tr data-vmid=${r.vmid} data-result=${r.result ?? (step ? 'running' : 'none')}>
              <td>${r.vmid}</td>
              <td>${r.node ?? '?'}</td>
              <td class="state">${step ? 'In progress' : r.result ? OUTCOME_LABEL[r.result] : '—'}</td>
              <td class="detail">${step ?? r.detail}</td>
            </tr>`;
          })}
        </tbody>
      </table>
      <div class="actions">
        ${this._running
          ? html`<button class="cancel" ?disabled=${this._cancelled} @click=${() => (this._cancelled = true)}>
                ${this._cancelled ? 'Cancelling…' : 'Cancel'}
              </button>
              <span class="muted">${this._cancelled ? 'The VMs in flight finish; no other VM starts.' : `${this._running === 'apply' ? 'Applying' : 'Rolling back'}…`}</span>`
          : nothing}
        ${unfinished && !this._running
          ? html`<button class="primary resume" @click=${() => void this._run({ kind: unfinished, reboot: this._lastReboot() })}>Resume</button>`
          : nothing}
        <button class="download" ?disabled=${this._entries.length === 0} @click=${() => this._download()}>Download journal (JSONL)</button>
        <span class="muted">for <code>pve-dataplane rollback --journal ${m.id}.jsonl</code></span>
      </div>
      ${!this._running && rollbackable.length > 0 ? this._rollback(rollbackable) : nothing}`;
  }

  /** The reboot policy of the journal's last run (a resume keeps it). */
  private _lastReboot(): RebootPolicy {
    const run = [...this._entries].reverse().find((e) => e.t === 'run');
    return run?.t === 'run' ? run.reboot : this.journal.reboot;
  }

  private _rollback(vmids: number[]) {
    const list = vmids.join(', ');
    return html`<fieldset class="rollback">
      <legend>Roll back</legend>
      <p class="muted">Restores the exact previous values of every key the apply wrote (digest-guarded), for VM${vmids.length === 1 ? '' : 's'} ${list}.</p>
      ${this.canReboot
        ? (['never', 'if-stopped', 'now'] as RebootPolicy[]).map(
            (r) => html`<label
                ><input type="radio" name="rollback-reboot" value=${r} .checked=${this._rollbackReboot === r} @change=${() => (this._rollbackReboot = r)} />
                ${S.rebootChoice[r]}</label
              ><br />`,
          )
        : nothing}
      ${this._confirmRollback
        ? html`<p role="alertdialog">
            <b>Are you sure you want to roll back VM${vmids.length === 1 ? '' : 's'} ${list}${this._rollbackReboot === 'now' ? ' and reboot them' : ''}?</b>
            <button class="primary yes" @click=${() => ((this._confirmRollback = false), void this._run({ kind: 'rollback', reboot: this._rollbackReboot }))}>${S.yes}</button>
            <button class="no" @click=${() => (this._confirmRollback = false)}>${S.no}</button>
          </p>`
        : html`<button class="roll-back" @click=${() => (this._confirmRollback = true)}>Roll back ${vmids.length} VM${vmids.length === 1 ? '' : 's'}…</button>`}
    </fieldset>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-pve-apply': DpPveApply;
  }
  interface HTMLElementEventMap {
    'dp-run-end': DpRunEndEvent;
  }
}
