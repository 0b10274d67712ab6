// SPDX-License-Identifier: AGPL-3.0-or-later
import { provide } from '@lit/context';
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { PveClient } from '../src/api/client.js';
import { fetchTransport } from '../src/api/fetch-transport.js';
import { apiClientContext, panelModeContext, type PanelMode } from './context.js';
import { ThemeController } from './controllers/theme-controller.js';
import { auditInWorker, readPendingInBatches } from './data/fleet-audit.js';
import { type ShimConfig, fetchShimConfig, signOut } from './data/shim-config.js';
import { S } from './strings.js';
import { shared } from './styles/shared.js';
import { tokens } from './styles/tokens.js';
import './components/dp-alert.js';
import './components/dp-login.js';
import './components/dp-spinner.js';
import './views/dp-fleet-view.js';

/**
 * The panel: asks the shim whether it is read-only, provides the API client and that mode to
 * every element, follows PVE's theme, and shows the fleet.
 */
@customElement('dp-app')
export class DpApp extends LitElement {
  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--dp-bg);
        box-sizing: border-box;
      }
      header {
        display: flex;
        align-items: baseline;
        gap: 12px;
        padding: 8px 12px;
        background: var(--dp-panel-bg);
        border-bottom: 1px solid var(--dp-border);
      }
      h1 {
        font-size: 15px;
        margin: 0;
      }
      main {
        padding: 10px 12px;
      }
      .tag {
        border: 1px solid var(--dp-border);
        border-radius: 3px;
        padding: 0 6px;
      }
      .user {
        margin-left: auto;
        display: flex;
        align-items: baseline;
        gap: 8px;
      }
    `,
  ];

  /** Where `/dp/config` is asked (tests). */
  @property({ attribute: false }) configSource: (signal: AbortSignal) => Promise<ShimConfig | null> = (signal) => fetchShimConfig(signal);

  /** How the session is ended (login mode; tests replace it). */
  @property({ attribute: false }) signOutSink: (csrfToken: string) => Promise<void> = (csrfToken) => signOut(csrfToken);

  /** The client every element uses: same-origin `/api2/json`. */
  @provide({ context: apiClientContext })
  client: PveClient = readPendingInBatches(auditInWorker(new PveClient({
    baseUrl: '',
    // Behind the shim: no credentials (the shim adds its token), its CSRF token on writes. Inside
    // the PVE UI: the browser's PVEAuthCookie plus the page's CSRF token.
    auth: {
      kind: 'same-origin',
      csrfToken: () => this._csrfToken || (globalThis as { Proxmox?: { CSRFPreventionToken?: string } }).Proxmox?.CSRFPreventionToken,
    },
    concurrency: 6,
    // The browser's fetch, not axios' XMLHttpRequest: ~1 ms less main thread per request.
    transport: fetchTransport(),
  }), {
    // The fleet audit's reads run in a worker (fleet-audit-remote.ts says why), built next to
    // this bundle by scripts/build.mjs; where it cannot start, on the page.
    start: () => new Worker(new URL('./fleet-audit-worker.js', import.meta.url), { type: 'module', name: 'pve-dataplane fleet audit' }),
    csrfToken: () => this._csrfToken || undefined,
    // Behind the shim, the VMs' configs come in a few batched requests (panel/data/pending-batch.ts
    // says why); without one (inside the PVE UI), one request per VM.
  }), () => this._config.value?.pendingBatch);

  /** Read-only flag and the shim's facts, set once `/dp/config` answered. */
  @provide({ context: panelModeContext })
  mode: PanelMode = { readOnly: false, readOnlyReason: '', upstream: '', canApply: false, csrfToken: '' };

  private readonly _theme = new ThemeController(this);
  private _csrfToken = '';
  @state() private _signOutError = '';

  private async _signOut(): Promise<void> {
    try {
      this._signOutError = '';
      await this.signOutSink(this._csrfToken);
    } catch (err) {
      this._signOutError = err instanceof Error ? err.message : String(err);
    }
    // Signed out (or the session was already gone): /dp/config now asks for a login.
    void this._config.run();
  }

  private readonly _config = new Task(this, {
    task: async ([source], { signal }) => {
      const config = await source(signal);
      this._csrfToken = config?.csrfToken ?? '';
      this.mode = config?.readOnly
        ? { readOnly: true, readOnlyReason: S.readOnlyShim, upstream: config.upstream, canApply: false, csrfToken: '' }
        : { readOnly: false, readOnlyReason: '', upstream: config?.upstream ?? '', canApply: config !== null, csrfToken: config?.csrfToken ?? '' };
      return config;
    },
    args: () => [this.configSource] as const,
  });

  override render() {
    return html`
      <header>
        <h1>${S.title}</h1>
        ${this.mode.upstream ? html`<span class="muted">${this.mode.upstream}</span>` : nothing}
        ${this.mode.readOnly ? html`<span class="tag">read-only</span>` : nothing}
        ${this._config.value?.user
          ? html`<span class="user"
              ><span>${S.signedInAs(this._config.value.user)}</span
              ><button type="button" class="sign-out" @click=${() => void this._signOut()}>${S.signOut}</button></span
            >`
          : nothing}
      </header>
      ${this._signOutError ? html`<dp-alert variant="error">${this._signOutError}</dp-alert>` : nothing}
      <main>
        ${this._config.render({
          initial: () => html`<dp-spinner></dp-spinner>`,
          pending: () => html`<dp-spinner></dp-spinner>`,
          error: (err) =>
            html`<dp-alert variant="error" heading="Cannot reach pve-dataplane" retry @dp-retry=${() => void this._config.run()}
              >${err instanceof Error ? err.message : String(err)}</dp-alert
            >`,
          complete: (config) =>
            config?.loginRequired
              ? // Login mode: once signed in, /dp/config is asked again (now with the session's token).
                html`<dp-login @dp-login=${() => void this._config.run()}></dp-login>`
              : html`
            ${this.mode.readOnly ? html`<dp-alert variant="info" class="read-only">${S.readOnlyNotice(this.mode.readOnlyReason)}</dp-alert>` : nothing}
            <dp-fleet-view></dp-fleet-view>
          `,
        })}
      </main>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-app': DpApp;
  }
}
