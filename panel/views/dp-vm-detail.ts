// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { DiskFacts, RiskReason, VmReport } from '../../src/analysis/types.js';
import { DpVmSelectEvent } from '../events.js';
import { aioDiffers, aioEffectiveText, iothreadDiffers, isEmptyDrive, onOff, riskOf } from '../data/filter.js';
import { S, busLabel, diskLabel } from '../strings.js';
import { card, shared } from '../styles/shared.js';
import '../components/dp-pending-value.js';
import '../components/dp-risk-badge.js';

/**
 * One VM: every disk's configured and effective facts, then the risk reasons with their
 * evidence and fix.
 * @fires dp-vm-select - with `null` when the user closes the details
 */
@customElement('dp-vm-detail')
export class DpVmDetail extends LitElement {
  static override styles = [
    shared,
    card,
    css`
      header {
        display: flex;
        justify-content: space-between;
        align-items: center;
        margin-bottom: 8px;
      }
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
    `,
  ];

  /** The VM shown. */
  @property({ attribute: false }) vm: VmReport | null = null;

  override render() {
    const vm = this.vm;
    if (!vm) return nothing;
    const reasons = vm.risk?.reasons ?? [];
    return html`
      <header>
        <h2>VM ${vm.vmid}${vm.name ? ` (${vm.name})` : ''} on ${vm.node ?? '?'}: <dp-risk-badge level=${riskOf(vm)}></dp-risk-badge></h2>
        <button @click=${() => this.dispatchEvent(new DpVmSelectEvent(null))}>${S.closeDetails}</button>
      </header>
      <table>
        <thead>
          <tr><th>Disk</th><th>Bus / Device</th><th>Controller</th><th>IO Thread (configured / effective)</th><th>Async IO (configured / effective)</th><th>Cache</th></tr>
        </thead>
        <tbody>
          ${vm.disks.map(
            (d) => html`<tr>
              <td>${diskLabel(d.key, d.media)}<div class="muted">${d.volume}</div></td>
              <td>${busLabel(d.bus)} / ${d.qemuDevice ?? '-'}</td>
              <td>${d.controller ?? '-'}</td>
              <td class=${iothreadDiffers(d) ? 'differs' : ''}>${onOff(d.iothread.configured)} / ${onOff(d.iothread.effective)}${this._pending(d, (p) => onOff(p.iothread.effective))}</td>
              <td class=${aioDiffers(d) ? 'differs' : ''}>${isEmptyDrive(d) ? 'no medium' : `${d.aio.configured ?? S.defaultAio} / ${aioEffectiveText(d, d)}`}${this._pending(d, (p) => aioEffectiveText(p, d))}</td>
              <td>${d.cache ?? 'Default (No cache)'}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <h2 style="margin-top:12px">Risk</h2>
      ${reasons.length === 0 ? html`<p>${S.noReasons}</p>` : html`<ol>${reasons.map((r) => this._reason(r))}</ol>`}
      ${vm.risk?.unavailable?.length ? html`<p class="muted">Not checked: ${vm.risk.unavailable.join('; ')}</p>` : nothing}
    `;
  }

  private _pending(d: VmReport['disks'][number], pick: (p: DiskFacts) => string) {
    if (!d.pending) return nothing;
    if ('deleted' in d.pending) return html`<dp-pending-value .current=${null} .pending=${'(removed)'}></dp-pending-value>`;
    return html`<dp-pending-value .current=${null} .pending=${pick(d.pending as DiskFacts)}></dp-pending-value>`;
  }

  private _reason(r: RiskReason) {
    return html`<li class="reason">
      <div><dp-risk-badge level=${r.severity}></dp-risk-badge> ${r.disk ? html`<b>${r.disk}</b>: ` : nothing}${r.message} <span class="code">${r.code}</span></div>
      ${r.evidence.length
        ? html`<dl>
            ${r.evidence.map((e) => html`<dt>${e.label}</dt><dd>${e.value}</dd>`)}
          </dl>`
        : nothing}
      <div><b>${S.fix}:</b> ${r.fix}</div>
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-vm-detail': DpVmDetail;
  }
}
