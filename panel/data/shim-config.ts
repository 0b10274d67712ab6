// SPDX-License-Identifier: AGPL-3.0-or-later
/** `GET /dp/config` of the api-shim: read-only flag and upstream host. */
import type { PendingBatchAdvert } from '../../api-shim/contracts/pending-batch.js';

/** The shim's answer (api-shim/plugins/audit-mode.ts). */
export interface ShimConfig {
  readOnly: boolean;
  upstream: string;
  /** Header `CSRFPreventionToken` the shim wants on writes. */
  csrfToken: string;
  /** PVE login mode and nobody signed in yet: show `<dp-login>` instead of the fleet. */
  loginRequired?: boolean;
  /** Login mode: the signed-in PVE user. */
  user?: string | null;
  /** The shim's batched config read (api-shim/contracts/pending-batch.ts); null: read one VM per request. */
  pendingBatch?: PendingBatchAdvert | null;
}

/**
 * Reads the shim's config. Inside the PVE UI there is no shim: a 404 means "not behind the
 * shim", answered as `null`.
 * @throws Error naming the status when the shim answers something else
 */
export async function fetchShimConfig(signal?: AbortSignal, base = ''): Promise<ShimConfig | null> {
  const res = await fetch(`${base}/dp/config`, { signal, credentials: 'same-origin' });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`/dp/config: ${res.status} ${res.statusText}`);
  const body = (await res.json()) as Partial<ShimConfig>;
  return {
    readOnly: body.readOnly === true,
    upstream: String(body.upstream ?? ''),
    csrfToken: String(body.csrfToken ?? ''),
    loginRequired: body.loginRequired === true,
    user: typeof body.user === 'string' ? body.user : null,
    pendingBatch: batchAdvert(body.pendingBatch),
  };
}

/**
 * Ends the login-mode session (`POST /dp/logout` with the session's CSRF token); the shim drops
 * the PVE ticket it held for it.
 * @throws Error naming the status when the shim refuses
 */
export async function signOut(csrfToken: string, base = ''): Promise<void> {
  const res = await fetch(`${base}/dp/logout`, { method: 'POST', credentials: 'same-origin', headers: { CSRFPreventionToken: csrfToken } });
  if (!res.ok) throw new Error(`/dp/logout: ${res.status} ${res.statusText}`);
}

/** The advert when it is one this panel can use (a `/dp/` path, a whole number of VMs), else null. */
function batchAdvert(v: unknown): PendingBatchAdvert | null {
  const a = v as Partial<PendingBatchAdvert> | null | undefined;
  if (!a || typeof a.path !== 'string' || !a.path.startsWith('/dp/') || !Number.isInteger(a.maxVmids) || a.maxVmids! < 1) return null;
  return { path: a.path, maxVmids: a.maxVmids! };
}
