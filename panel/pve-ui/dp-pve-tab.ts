// SPDX-License-Identifier: AGPL-3.0-or-later
import { provide } from '@lit/context';
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { PveClient } from '../../src/api/client.js';
import { apiClientContext, panelModeContext, type PanelMode } from '../context.js';
import { ThemeController } from '../controllers/theme-controller.js';
import { type FleetAudit, type FleetLoader, loadFleetAudit } from '../data/fleet-audit.js';
import { shared } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';
import '../components/dp-alert.js';
import '../components/dp-spinner.js';
import '../views/dp-fleet-view.js';
import './dp-pve-vm.js';
import { pveUiClient } from './pve-client.js';

/** Mode inside the PVE UI: no shim, no shim Apply; writes are decided per VM from privileges. */
const PVE_UI_MODE: PanelMode = { readOnly: false, readOnlyReason: '', upstream: '', canApply: false, csrfToken: '' };

/**
 * The "Disk I/O" tab inside the PVE web UI (the glue puts `<dp-pve-tab scope=…>` in the card):
 * the same elements as the standalone panel, on the user's own PVE session (same-origin
 * `/api2/json`, the browser's `PVEAuthCookie`, the page's CSRF token), in PVE's theme.
 * `scope="cluster"`: the fleet; `scope="node" node=…`: that node's VMs; `scope="vm" node=… vmid=…`:
 * that VM's disks, risk and fix.
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

  private readonly _theme = new ThemeController(this);

  /** The fleet of this node only (one function per node: a new one would reload the view). */
  private _nodeLoader?: FleetLoader;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
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
    if (this.scope === 'cluster') return html`<dp-fleet-view .loader=${this.loader}></dp-fleet-view>`;
    if (this.scope === 'node') return html`<dp-fleet-view .loader=${this._nodeLoader}></dp-fleet-view>`;
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
