// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The PVE-UI test page, in the browser: npm's ExtJS 6.2 GPL, the stand-in PVE classes
 * (fixtures/pve-standin.js), then the glue, in the order index.html.tpl loads ExtJS,
 * pvemanagerlib.js and pve-dataplane-ui.js. Logs in to the API (same origin) as PVE's login
 * window does: the ticket into the `PVEAuthCookie` cookie, the CSRF token into `Proxmox`.
 */

/** ExtJS as the tests use it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyExt = any;

function loadClassic(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

function loadCss(href: string): void {
  const l = document.createElement('link');
  l.rel = 'stylesheet';
  l.href = href;
  document.head.append(l);
}

/** Loads ExtJS, the stand-in and the glue once. */
export async function loadPveUi(): Promise<{ Ext: AnyExt; PVE: AnyExt }> {
  const w = window as unknown as { Ext?: AnyExt; PVE?: AnyExt };
  if (!w.Ext) {
    loadCss('/node_modules/extjs-gpl/build/classic/theme-crisp/resources/theme-crisp-all-debug.css');
    // Served untouched (web-test-runner.config.mjs rawClassicScripts): classic, non-strict scripts.
    await loadClassic('/raw/ext-all.classic');
    await loadClassic('/raw/pve-standin.classic');
    // After pvemanagerlib.js, as the installed <script> line is.
    await import('../../panel/pve-ui/main.js');
  }
  return { Ext: w.Ext, PVE: w.PVE };
}

/** Logs in as `username` (simulator users: root@pam/simulator, audit@pve/audit, operator@pve/operator). */
export async function login(username: string, password: string): Promise<{ ticket: string; csrf: string }> {
  const res = await fetch('/api2/json/access/ticket', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${res.statusText}`);
  const { data } = (await res.json()) as { data: { ticket: string; CSRFPreventionToken: string } };
  document.cookie = `PVEAuthCookie=${encodeURIComponent(data.ticket)}; path=/; SameSite=Lax`;
  (window as unknown as { Proxmox: unknown }).Proxmox = { Setup: { auth_cookie_name: 'PVEAuthCookie' }, UserName: username, CSRFPreventionToken: data.CSRFPreventionToken };
  return { ticket: data.ticket, csrf: data.CSRFPreventionToken };
}

/** A config panel as PVE's workspace creates it (pve-manager Workspace.js `selectById`). */
export function createConfig(Ext: AnyExt, cls: string, data: Record<string, unknown>): AnyExt {
  const host = document.createElement('div');
  document.body.append(host);
  return Ext.create(cls, { renderTo: host, width: 1100, height: 700, pveSelNode: { data }, workspace: null });
}

/** Destroys a panel and its host element. */
export function destroy(panel: AnyExt): void {
  const host = panel.getEl()?.dom?.parentElement;
  panel.destroy();
  host?.remove();
}

/** Item ids of the panel's menu, in order. */
export function menuIds(panel: AnyExt): string[] {
  const ids: string[] = [];
  panel.store.getRoot().cascadeBy((n: AnyExt) => {
    if (!n.isRoot()) ids.push(n.getId());
  });
  return ids;
}
