// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { DiskFacts, DiskReport, RiskReason, VmReport } from '../../src/analysis/types.js';
import { DpCloseEvent } from '../events.js';
import { aioDiffers, cacheText, iothreadDiffers, isEmptyDrive, riskOf } from '../data/filter.js';
import type { FleetRow } from '../data/fleet-query.js';
import { panelFixText } from '../../src/present/fix.js';
import { aioPair, iothreadPair } from '../../src/present/disk-facts.js';
import { evidenceLabel } from '../../src/present/evidence.js';
import { S, busLabel, diskLabel, scsihwLabel } from '../strings.js';
import { shared } from '../styles/shared.js';
import '../components/dp-dialog.js';
import '../components/dp-pending-value.js';
import '../components/dp-risk-badge.js';

/**
 * One VM in a window over the table: every disk's configured and effective facts in PVE's words
 * (Hard Disk (scsi0), SCSI Controller, Async IO, Write back), pending values in dark orange and
 * pending deletions struck through, then the risk reasons with their evidence and fix.
 * @fires dp-close - Escape or the close tool (bubbles from `<dp-dialog>`)
 */
@customElement('dp-vm-detail')
export class DpVmDetail extends LitElement {
  static override styles = [
    shared,
    css`
      .differs {
        color: var(--dp-mark, #c0392b);
        font-weight: bold;
      }
      ol {
        padding-left: 0;
        list-style: none;
      }
      li.reason {
        border-top: 1px solid var(--dp-border);
        padding: 6px 0;
      }
      .code {
        font-family: monospace;
        color: var(--dp-text-muted);
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 2px 10px;
        margin: 4px 0;
      }
      dt {
        color: var(--dp-text-muted);
      }
      dd {
        margin: 0;
      }
      .summary {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 18px;
        margin-bottom: 8px;
      }
      h3 {
        font-size: 13px;
        margin: 12px 0 4px;
      }
    `,
  ];

  /** The VM shown, with its pending keys. */
  @property({ attribute: false }) row: FleetRow | null = null;

  override render() {
    const row = this.row;
    if (!row) return nothing;
    const vm = row.vm;
    const reasons = vm.risk?.reasons ?? [];
    return html`<dp-dialog heading=${`VM ${vm.vmid}${vm.name ? ` (${vm.name})` : ''} on node '${vm.node ?? '?'}'`}>
      <div class="summary">
        <span>Risk: <dp-risk-badge level=${riskOf(vm)}></dp-risk-badge></span>
        <span>Status: ${vm.status}${vm.template ? ` (${S.template})` : ''}</span>
        <span
          >SCSI Controller:
          <dp-pending-value
            style="display:inline-block"
            .current=${scsihwLabel(vm.scsihw.configured)}
            .pending=${vm.scsihw.pending ? scsihwLabel(vm.scsihw.pending.configured) : undefined}
          ></dp-pending-value
        ></span>
        <span>Machine: ${vm.machine.type} ${vm.machine.version}</span>
      </div>
      ${row.pendingKeys.length ? html`<p class="pending-keys">${S.pendingKeysTitle(row.pendingKeys)}</p>` : nothing}
      <table>
        <thead>
          <tr><th scope="col">Disk</th><th scope="col">Bus / Device</th><th scope="col">Controller</th><th scope="col">IO Thread (configured / runs)</th><th scope="col">Async IO (configured / runs)</th><th scope="col">Cache</th></tr>
        </thead>
        <tbody>
          ${vm.disks.map((d) => this._disk(vm, d))}
        </tbody>
      </table>
      <h3>Risk</h3>
      ${reasons.length === 0 ? html`<p>${S.noReasons}</p>` : html`<ol>${reasons.map((r) => this._reason(r))}</ol>`}
      ${vm.risk?.unavailable?.length ? html`<p class="muted">Not checked: ${vm.risk.unavailable.join('; ')}</p>` : nothing}
      <button slot="footer" @click=${() => this.dispatchEvent(new DpCloseEvent())}>${S.closeDetails}</button>
    </dp-dialog>`;
  }

  private _disk(vm: VmReport, d: DiskReport) {
    const deleted = d.pending !== undefined && 'deleted' in d.pending;
    const p = d.pending && !('deleted' in d.pending) ? (d.pending as DiskFacts) : undefined;
    const pend = (text: (f: DiskFacts) => string, now: string | null) =>
      html`<dp-pending-value .current=${now} .pending=${p ? text(p) : undefined} ?deleted=${deleted}></dp-pending-value>`;
    const controller = (f: DiskFacts): string => (d.bus === 'scsi' ? scsihwLabel(f === d ? vm.scsihw.effective : (vm.scsihw.pending?.effective ?? vm.scsihw.effective)) : busLabel(d.bus));
    const empty = isEmptyDrive(d);
    return html`<tr>
      <th scope="row" style="font-weight:normal">${diskLabel(d.key, d.media)}<div class="muted">${d.volume}</div></th>
      <td>${busLabel(d.bus)} / ${pend((f) => f.qemuDevice ?? '-', d.onlyPending ? null : (d.qemuDevice ?? '-'))}</td>
      <td>${pend(controller, d.onlyPending ? null : controller(d))}</td>
      <td class=${iothreadDiffers(d) && !d.onlyPending ? 'differs' : ''}>
        ${pend(iothreadPair, d.onlyPending ? null : iothreadPair(d))}
      </td>
      <td class=${aioDiffers(d) && !d.onlyPending ? 'differs' : ''}>
        ${empty ? 'no medium' : pend(aioPair, d.onlyPending ? null : aioPair(d))}
      </td>
      <td class=${cacheText(d).marked && !d.onlyPending ? 'differs' : ''}>${pend((f) => cacheText(f).text, d.onlyPending ? null : cacheText(d).text)}</td>
    </tr>`;
  }

  private _reason(r: RiskReason) {
    return html`<li class="reason">
      <div><dp-risk-badge level=${r.severity}></dp-risk-badge> ${r.disk ? html`<b>${r.disk}</b>: ` : nothing}${r.message} <span class="code">${r.code}</span></div>
      ${r.evidence.length
        ? html`<dl>
            ${r.evidence.map((e) => html`<dt>${evidenceLabel(e)}</dt><dd>${e.value}</dd>`)}
          </dl>`
        : nothing}
      <div><b>${S.fix}:</b> ${panelFixText(r)}</div>
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-vm-detail': DpVmDetail;
  }
}
