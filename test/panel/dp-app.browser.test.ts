// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import type { DpAlert } from '../../panel/components/dp-alert.js';
import type { DpApp } from '../../panel/dp-app.js';
import '../../panel/dp-app.js';
import { themeFromCookie } from '../../panel/controllers/theme-controller.js';
import type { ShimConfig } from '../../panel/data/shim-config.js';
// axe (what `to.be.accessible` runs) loads with this file, not at the first check: by then the dp-app
// fixtures before it hold the browser's six connections to the test server with /api2 requests that
// answer 401 only after PVE's ~3 s auth delay, and axe's download queued behind them (6.7 s at load
// ~8, past the 10 s test timeout at load 11-15).
import 'axe-core/axe.min.js';
import { waitUntil } from './wait-until.js';

const root = (el: Element) => el.shadowRoot!;

describe('dp-app', () => {
  it('read-only shim: says why and marks the header', async () => {
    const el = await fixture<DpApp>(html`<dp-app .configSource=${() => Promise.resolve<ShimConfig>({ readOnly: true, upstream: 'pve1:8006', csrfToken: 't' })}></dp-app>`);
    await waitUntil(() => root(el).querySelector('dp-alert.read-only'), 'read-only notice');
    expect(root(el).querySelector('dp-alert.read-only')!.textContent).to.contain('--read-only');
    expect(root(el).querySelector('header')!.textContent).to.contain('read-only');
    expect(root(el).querySelector('header')!.textContent).to.contain('pve1:8006');
    expect(el.mode.readOnly).to.equal(true);
  });

  it('writable shim: no read-only notice', async () => {
    const el = await fixture<DpApp>(html`<dp-app .configSource=${() => Promise.resolve<ShimConfig>({ readOnly: false, upstream: 'pve1:8006', csrfToken: 't' })}></dp-app>`);
    await waitUntil(() => root(el).querySelector('dp-fleet-view'));
    expect(root(el).querySelector('dp-alert.read-only')).to.equal(null);
    expect(root(el).querySelector('header')!.textContent).to.not.contain('read-only');
  });

  it('an unreachable shim shows the error with Retry', async () => {
    let calls = 0;
    const source = () => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('/dp/config: 502 Bad Gateway')) : Promise.resolve<ShimConfig>({ readOnly: true, upstream: 'x', csrfToken: 't' });
    };
    const el = await fixture<DpApp>(html`<dp-app .configSource=${source}></dp-app>`);
    await waitUntil(() => root(el).querySelector('dp-alert[variant=error]'));
    const alert = root(el).querySelector<DpAlert>('dp-alert[variant=error]')!;
    expect(alert.textContent).to.contain('502');
    await alert.updateComplete;
    (alert.shadowRoot!.querySelector('button') as HTMLButtonElement).click();
    await waitUntil(() => root(el).querySelector('dp-alert.read-only'), 'loaded after retry');
  });

  it('login mode: the header names the signed-in PVE user; Logout ends the session with its CSRF token and shows the sign-in again', async () => {
    const answers: ShimConfig[] = [
      { readOnly: false, upstream: 'pve1:8006', csrfToken: 'csrf-op', loginRequired: false, user: 'operator@pve' },
      { readOnly: false, upstream: 'pve1:8006', csrfToken: '', loginRequired: true, user: null },
    ];
    const signedOut: string[] = [];
    const el = await fixture<DpApp>(
      html`<dp-app .configSource=${() => Promise.resolve(answers.shift()!)} .signOutSink=${(t: string) => (signedOut.push(t), Promise.resolve())}></dp-app>`,
    );
    // Generous deadlines for a loaded machine; each wait ends as soon as the element is there.
    await waitUntil(() => root(el).querySelector('button.sign-out'), 'Logout button');
    expect(root(el).querySelector('header .user')!.textContent).to.contain('operator@pve');
    await expect(el).to.be.accessible({ ignoredRules: ['region'] });
    (root(el).querySelector('button.sign-out') as HTMLButtonElement).click();
    await waitUntil(() => root(el).querySelector('dp-login'), 'sign-in form after Logout');
    expect(signedOut).to.deep.equal(['csrf-op']);
    expect(root(el).querySelector('button.sign-out')).to.equal(null);
  });

  it('token mode: no user, no Logout', async () => {
    const el = await fixture<DpApp>(html`<dp-app .configSource=${() => Promise.resolve<ShimConfig>({ readOnly: false, upstream: 'pve1:8006', csrfToken: 't' })}></dp-app>`);
    await waitUntil(() => root(el).querySelector('dp-fleet-view'));
    expect(root(el).querySelector('button.sign-out')).to.equal(null);
  });

  it('follows PVEThemeCookie (crisp, proxmox-dark, auto)', () => {
    expect(themeFromCookie('PVEThemeCookie=crisp')).to.equal('light');
    expect(themeFromCookie('a=1; PVEThemeCookie=proxmox-dark; b=2')).to.equal('dark');
    expect(themeFromCookie('PVEThemeCookie=__default__')).to.equal(null);
    expect(themeFromCookie('')).to.equal(null);
  });

  it('dark theme cookie switches the tokens', async () => {
    document.cookie = 'PVEThemeCookie=proxmox-dark; path=/';
    try {
      const el = await fixture<DpApp>(html`<dp-app .configSource=${() => Promise.resolve(null)}></dp-app>`);
      expect(el.getAttribute('theme')).to.equal('dark');
      expect(getComputedStyle(el).colorScheme).to.equal('dark');
    } finally {
      document.cookie = 'PVEThemeCookie=; path=/; max-age=0';
    }
  });
});
