// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { FleetAudit } from '../data/fleet-audit.js';
import { fleetRow } from '../data/fleet-query.js';
import { planSelected } from '../data/plan.js';
import { shared } from '../styles/shared.js';
import { readOnlyReason, vmWriteAccess } from './write-access.js';
import '../components/dp-alert.js';
import '../views/dp-plan-preview.js';
import '../views/dp-vm-detail.js';

/**
 * The VM tab's content: the VM's disks with every effective fact and its risk (`<dp-vm-detail>`),
 * then the fix as a plan preview whose Apply (`dp-apply-request`) `<dp-pve-tab>` runs in the
 * browser. Write controls only for a user with VM.Config.Disk and VM.Config.HWType on the VM, the
 * reboot choices only with VM.PowerMgmt too; otherwise the tab says what is missing.
 */
@customElement('dp-pve-vm')
export class DpPveVm extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      dp-plan-preview,
      dp-alert {
        margin-top: 10px;
        display: block;
      }
    `,
  ];

  /** The audit of this one VM (loaded by `<dp-pve-tab>`). */
  @property({ attribute: false }) audit: FleetAudit | null = null;
  @property({ type: Number }) vmid = 0;
  /** A run of this VM is in progress in this tab: Apply is disabled. */
  @property({ type: Boolean }) applying = false;

  override render() {
    const audit = this.audit;
    if (!audit) return nothing;
    const vm = audit.report.vms.find((v) => v.vmid === this.vmid);
    if (!vm) {
      const why = audit.report.errors.map((e) => e.message).join('; ');
      return html`<dp-alert variant="error" heading="VM ${this.vmid} could not be audited">${why || 'It is not in the cluster resources this user may see (VM.Audit).'}</dp-alert>`;
    }
    const access = vmWriteAccess(audit.permissions, this.vmid);
    const plan = planSelected(audit, new Set([this.vmid]));
    return html`
      ${access.canWrite ? nothing : html`<dp-alert variant="info" class="read-only">Read-only: ${readOnlyReason(access, this.vmid)}</dp-alert>`}
      <dp-vm-detail .row=${fleetRow(vm, audit.inputs.find((i) => i.vmid === this.vmid))}></dp-vm-detail>
      <dp-plan-preview
        .plan=${plan}
        .reports=${new Map([[vm.vmid, vm]])}
        ?readOnly=${!access.canWrite}
        readOnlyReason=${access.canWrite ? '' : readOnlyReason(access, this.vmid)}
        ?canApply=${access.canWrite}
        ?canReboot=${access.canReboot}
        ?applying=${this.applying}
      ></dp-plan-preview>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-pve-vm': DpPveVm;
  }
}
