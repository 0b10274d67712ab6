// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// <dp-login> against a stand-in for the shim's POST /dp/login: password, then the TOTP step when
// PVE asks for it, errors shown as alerts, `dp-login` fired once signed in.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { type DpLogin, DpLoginEvent } from '../../panel/components/dp-login.js';
import '../../panel/components/dp-login.js';
import type { DpApp } from '../../panel/dp-app.js';
import '../../panel/dp-app.js';
import type { ShimConfig } from '../../panel/data/shim-config.js';
import { waitUntil } from './wait-until.js';

const root = (el: Element) => el.shadowRoot!;

function fill(el: DpLogin, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) root(el).querySelector<HTMLInputElement>(`input[name=${name}]`)!.value = value;
  root(el).querySelector('form')!.requestSubmit();
}

describe('dp-login', () => {
  const realFetch = window.fetch;
  let posted: unknown[] = [];
  afterEach(() => {
    window.fetch = realFetch;
    posted = [];
  });
  const answer = (answers: { status: number; body: unknown }[]) => {
    window.fetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      posted.push(JSON.parse(String(init?.body)));
      const a = answers.shift()!;
      return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
  };

  it('a wrong password shows the message; the right one fires dp-login with the session CSRF token', async () => {
    answer([
      { status: 401, body: { data: null, code: 'DP_LOGIN_FAILED', message: 'login failed: wrong user, realm, password or code' } },
      { status: 200, body: { status: 'ok', user: 'audit@pve', csrfToken: 'c1' } },
    ]);
    const el = await fixture<DpLogin>(html`<dp-login realm="pve"></dp-login>`);
    fill(el, { username: 'audit', password: 'nope' });
    await waitUntil(() => root(el).querySelector('[role=alert]'), 'error shown');
    expect(root(el).querySelector('[role=alert]')!.textContent).to.contain('login failed');
    const signed = oneEvent(el, DpLoginEvent.eventName);
    fill(el, { username: 'audit', password: 'audit' });
    const ev = (await signed) as unknown as DpLoginEvent;
    expect([ev.user, ev.csrfToken]).to.deep.equal(['audit@pve', 'c1']);
    expect(posted).to.deep.equal([
      { username: 'audit', realm: 'pve', password: 'nope' },
      { username: 'audit', realm: 'pve', password: 'audit' },
    ]);
  });

  it('TOTP: PVE asks for a second factor, the form asks for the code and sends it with the challenge', async () => {
    answer([
      { status: 200, body: { status: 'second-factor', challenge: 'ch1', types: ['totp'] } },
      { status: 200, body: { status: 'ok', user: 'mfa@pve', csrfToken: 'c2' } },
    ]);
    const el = await fixture<DpLogin>(html`<dp-login></dp-login>`);
    fill(el, { username: 'mfa', realm: 'pve', password: 'mfa' });
    await waitUntil(() => root(el).querySelector('input[name=code]'), 'code field');
    expect(root(el).querySelector('input[name=password]')).to.equal(null);
    const signed = oneEvent(el, DpLoginEvent.eventName);
    fill(el, { code: '123456' });
    expect(((await signed) as unknown as DpLoginEvent).user).to.equal('mfa@pve');
    expect(posted[1]).to.deep.equal({ challenge: 'ch1', code: '123456' });
  });

  it('dp-app: a shim in login mode shows the form; after sign-in it asks /dp/config again and shows the fleet', async () => {
    const configs: ShimConfig[] = [
      { readOnly: false, upstream: 'pve1:8006', csrfToken: '', loginRequired: true, user: null },
      { readOnly: false, upstream: 'pve1:8006', csrfToken: 's1', loginRequired: false, user: 'audit@pve' },
    ];
    let asked = 0;
    const el = await fixture<DpApp>(html`<dp-app .configSource=${() => Promise.resolve(configs[Math.min(asked++, 1)]!)}></dp-app>`);
    await waitUntil(() => root(el).querySelector('dp-login'), 'login form');
    expect(root(el).querySelector('dp-fleet-view')).to.equal(null);
    root(el).querySelector('dp-login')!.dispatchEvent(new DpLoginEvent('audit@pve', 's1'));
    await waitUntil(() => root(el).querySelector('dp-fleet-view'), 'fleet after sign-in');
    expect(asked).to.equal(2);
    expect(el.mode.csrfToken).to.equal('s1');
  });
});
