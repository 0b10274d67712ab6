// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The API client inside the PVE web UI: same-origin `/api2/json` with the user's own session (the
 * browser sends the `PVEAuthCookie`; writes carry the page's `CSRFPreventionToken`, which
 * index.html.tpl puts in `Proxmox.CSRFPreventionToken`). PVE's ACLs apply to every request.
 */
import { PveClient } from '../../src/api/client.js';
import { fetchTransport } from '../../src/api/fetch-transport.js';

/** The page's CSRF token, read per request (a re-login replaces it). */
export function pageCsrfToken(): string | undefined {
  return (globalThis as { Proxmox?: { CSRFPreventionToken?: string } }).Proxmox?.CSRFPreventionToken;
}

/** The logged-in PVE user (`Proxmox.UserName`, set by PVE's login), for the journal list. */
export function pageUserName(): string {
  return (globalThis as { Proxmox?: { UserName?: string } }).Proxmox?.UserName ?? '';
}

/**
 * NOTE: the fleet audit of the PVE tab runs on the page, not in a worker as standalone
 * (panel/data/fleet-audit-remote.ts): a worker's script is a second file pveproxy would serve
 * from /pve2/js/, which the installer (packaging/pve-dataplane-ui) does not place, and a blob:
 * worker would need the bundle twice. A node's tab audits that node's VMs, 4 requests at a time.
 */
export function pveUiClient(): PveClient {
  // pveproxy has few workers and the user's own UI polls too: stay gentle.
  return new PveClient({ baseUrl: '', auth: { kind: 'same-origin', csrfToken: pageCsrfToken }, concurrency: 4, transport: fetchTransport() });
}
