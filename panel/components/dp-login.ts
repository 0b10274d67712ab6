// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';

/** Sign-in finished: the shim set its session cookie; `csrfToken` goes on the session's writes. */
export class DpLoginEvent extends Event {
  static readonly eventName = 'dp-login';
  constructor(
    readonly user: string,
    readonly csrfToken: string,
  ) {
    super(DpLoginEvent.eventName, { bubbles: true, composed: true });
  }
}

/** What the shim's `POST /dp/login` answers (api-shim/plugins/login.ts). */
type LoginAnswer =
  | { status: 'ok'; user: string; csrfToken: string }
  | { status: 'second-factor'; challenge: string; types: string[] }
  | { data: null; message: string; code: string };

/**
 * The sign-in form of a shim in PVE login mode (`/dp/config` says `loginRequired`): PVE user,
 * realm and password, then the TOTP code when PVE asks for a second factor. The password goes to
 * the shim only (same origin), which keeps the PVE ticket; this element never sees it.
 * @fires dp-login - signed in
 */
@customElement('dp-login')
export class DpLogin extends LitElement {
  static override styles = css`
    :host {
      display: block;
      max-width: 22em;
      margin: 2em auto;
      padding: 16px;
      border: 1px solid var(--dp-border, #c0c0c0);
      background: var(--dp-panel-bg, #fff);
    }
    form {
      display: grid;
      gap: 8px;
    }
    label {
      display: grid;
      gap: 2px;
    }
    input,
    button {
      font: inherit;
      padding: 4px 6px;
    }
    .error {
      color: var(--dp-critical, #c00);
    }
  `;

  /** Where to post (the shim's login endpoint). */
  @property() endpoint = '/dp/login';
  /** Realm filled in first (`pam`, `pve`, an LDAP/AD realm id). */
  @property() realm = 'pam';

  @state() private _challenge: string | null = null;
  @state() private _error = '';
  @state() private _busy = false;

  override render() {
    return html`<form @submit=${this._onSubmit} aria-busy=${this._busy ? 'true' : 'false'}>
      ${this._challenge === null
        ? html`<label>User name <input name="username" autocomplete="username" required /></label>
            <label>Realm <input name="realm" .value=${this.realm} required /></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>`
        : html`<label
            >Second factor (TOTP code)
            <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6,8}" required
          /></label>`}
      ${this._error ? html`<div class="error" role="alert">${this._error}</div>` : nothing}
      <button type="submit" ?disabled=${this._busy}>${this._challenge === null ? 'Sign in' : 'Verify'}</button>
    </form>`;
  }

  private async _onSubmit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const body =
      this._challenge === null
        ? { username: form.get('username'), realm: form.get('realm'), password: form.get('password') }
        : { challenge: this._challenge, code: form.get('code') };
    this._busy = true;
    this._error = '';
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as LoginAnswer;
      if ('status' in answer && answer.status === 'ok') {
        this.dispatchEvent(new DpLoginEvent(answer.user, answer.csrfToken));
      } else if ('status' in answer && answer.status === 'second-factor') {
        if (!answer.types.includes('totp')) {
          this._error = `PVE asks for ${answer.types.join(' or ')}; sign in with a TOTP user, or in the PVE web UI`;
        } else {
          this._challenge = answer.challenge;
        }
      } else {
        // An expired second-factor step starts over at the password.
        if ('code' in answer && answer.code === 'DP_LOGIN_REQUIRED') this._challenge = null;
        this._error = 'message' in answer ? answer.message : `sign-in failed (${res.status})`;
      }
    } catch (err) {
      this._error = `sign-in failed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this._busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-login': DpLogin;
  }
  interface HTMLElementEventMap {
    'dp-login': DpLoginEvent;
  }
}
