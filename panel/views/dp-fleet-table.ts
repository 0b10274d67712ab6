// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { DiskFacts, DiskReport, VmReport } from '../../src/analysis/types.js';
import { DpSelectionChangeEvent, DpVmSelectEvent } from '../events.js';
import { aioDiffers, diskFactsText, iothreadDiffers, onOff, riskOf } from '../data/filter.js';
import { S, diskLabel, scsihwLabel } from '../strings.js';
import { shared } from '../styles/shared.js';
import '../components/dp-pending-value.js';
import '../components/dp-risk-badge.js';

/**
 * The fleet: one row per VM with its risk, controller and every disk's effective facts. A ⚑
 * marks a fact QEMU runs differently from the config; pending changes show below the current
 * value in dark orange, as in PVE.
 * @fires dp-vm-select - the user opened a VM's details
 * @fires dp-selection-change - the user ticked or unticked VMs
 */
@customElement('dp-fleet-table')
export class DpFleetTable extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        overflow-x: auto;
      }
      tbody tr:hover {
        background: var(--dp-row-hover);
      }
      tr[aria-selected='true'] {
        background: var(--dp-row-selected);
      }
      .disk {
        display: grid;
        grid-template-columns: 4.5em 1fr;
        gap: 0 6px;
      }
      .disk.cdrom {
        color: var(--dp-text-muted);
      }
      .disk + .disk {
        margin-top: 3px;
      }
      .dkey {
        font-weight: bold;
      }
      .mark {
        color: var(--dp-mark, #c0392b);
        font-size: 12px;
      }
      td.num {
        text-align: right;
      }
    `,
  ];

  /** VMs shown (already filtered). */
  @property({ attribute: false }) vms: VmReport[] = [];
  /** VMIDs ticked for the plan preview. */
  @property({ attribute: false }) selected: ReadonlySet<number> = new Set();
  /** VMID whose details are open. */
  @property({ type: Number }) current: number | null = null;

  override render() {
    const allTicked = this.vms.length > 0 && this.vms.every((vm) => this.selected.has(vm.vmid));
    return html`<table>
      <thead>
        <tr>
          <th><input type="checkbox" aria-label="Select all shown VMs" .checked=${allTicked} @change=${this._onToggleAll} /></th>
          <th>ID</th>
          <th>Name</th>
          <th>Node</th>
          <th>Status</th>
          <th>Risk</th>
          <th>SCSI Controller</th>
          <th>Disks (effective: device on controller, IO thread, async IO)</th>
        </tr>
      </thead>
      <tbody>
        ${this.vms.map((vm) => this._row(vm))}
      </tbody>
    </table>`;
  }

  private _row(vm: VmReport) {
    const level = riskOf(vm);
    return html`<tr data-vmid=${vm.vmid} aria-selected=${this.current === vm.vmid ? 'true' : 'false'}>
      <td>
        <input
          type="checkbox"
          aria-label=${`Select VM ${vm.vmid}`}
          .checked=${this.selected.has(vm.vmid)}
          @change=${(e: Event) => this._onTick(vm.vmid, (e.target as HTMLInputElement).checked)}
        />
      </td>
      <td class="num"><button class="link" @click=${() => this.dispatchEvent(new DpVmSelectEvent(vm.vmid))}>${vm.vmid}</button></td>
      <td>${vm.name ?? ''}</td>
      <td>${vm.node ?? ''}</td>
      <td>${vm.status}</td>
      <td><dp-risk-badge level=${level}></dp-risk-badge></td>
      <td>${this._scsihw(vm)}</td>
      <td>${vm.disks.map((d) => this._disk(d))}</td>
    </tr>`;
  }

  private _scsihw(vm: VmReport) {
    const current = scsihwLabel(vm.scsihw.configured);
    const pending = vm.scsihw.pending ? scsihwLabel(vm.scsihw.pending.configured) : undefined;
    return html`<dp-pending-value .current=${current} .pending=${pending}></dp-pending-value>`;
  }

  private _disk(d: DiskReport) {
    const deleted = d.pending !== undefined && 'deleted' in d.pending;
    const pendingFacts = d.pending && !('deleted' in d.pending) ? (d.pending as DiskFacts) : undefined;
    const current = d.onlyPending ? null : diskFactsText(d);
    const pending = pendingFacts ? diskFactsText(d, pendingFacts) : undefined;
    return html`<div class=${d.media === 'cdrom' ? 'disk cdrom' : 'disk'} title=${`${diskLabel(d.key, d.media)}: ${d.volume}`}>
      <span class="dkey">${d.key}</span>
      <span>
        <dp-pending-value .current=${current} .pending=${pending} ?deleted=${deleted}></dp-pending-value>
        ${d.onlyPending ? nothing : this._marks(d)}
      </span>
    </div>`;
  }

  private _marks(f: DiskFacts) {
    const marks: string[] = [];
    if (iothreadDiffers(f)) marks.push(`iothread configured ${onOff(f.iothread.configured)}, runs ${onOff(f.iothread.effective)}`);
    if (aioDiffers(f)) marks.push(`aio configured ${f.aio.configured ?? S.defaultAio}, runs ${f.aio.effective}`);
    return marks.map((m) => html`<div class="mark" title=${S.diffMark}>⚑ ${m}</div>`);
  }

  private _onTick(vmid: number, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(vmid);
    else next.delete(vmid);
    this.dispatchEvent(new DpSelectionChangeEvent(next));
  }

  private _onToggleAll(e: Event): void {
    const on = (e.target as HTMLInputElement).checked;
    const next = new Set(this.selected);
    for (const vm of this.vms) {
      if (on) next.add(vm.vmid);
      else next.delete(vm.vmid);
    }
    this.dispatchEvent(new DpSelectionChangeEvent(next));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-fleet-table': DpFleetTable;
  }
}
