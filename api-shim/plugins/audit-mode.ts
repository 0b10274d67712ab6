// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `GET /dp/config`: what the panel needs to know about this shim before it renders: whether
 * writes are refused (it then hides them and says why), which PVE it talks to (host only:
 * never the token, never the full URL with a path), the CSRF token its writes must carry, and
 * whether users sign in (login mode) and who is signed in.
 * No CORS headers: another origin cannot read this answer.
 */
import type { FastifyInstance } from 'fastify';
import { PENDING_BATCH_MAX_VMIDS, PENDING_BATCH_PATH, type PendingBatchAdvert } from '../contracts/pending-batch.js';
import type { ResolvedShimOptions } from '../options.js';
import { sessionOf } from '../session-of.js';

/** The `/dp/config` answer. */
export interface ShimConfig {
  readOnly: boolean;
  /** `pve1:8006`. */
  upstream: string;
  /**
   * Header `CSRFPreventionToken` every write must carry (same-origin pages only can read it); in
   * login mode the session's, `''` before sign-in.
   */
  csrfToken: string;
  /** `token`: the shim's API token, loopback only; `login`: each user signs in with their PVE account. */
  auth: 'token' | 'login';
  /** Login mode: true until the user signed in (the panel then shows `<dp-login>`). */
  loginRequired: boolean;
  /** Login mode: the signed-in PVE user (`alice@pve`), else null. */
  user: string | null;
  /** The batched config read (api-shim/plugins/pending-batch.ts): the panel reads the VMs' configs through it. */
  pendingBatch: PendingBatchAdvert;
}

export async function auditMode(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  app.get('/dp/config', async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    const session = sessionOf(request);
    const config: ShimConfig = {
      readOnly: opts.readOnly,
      upstream: opts.upstream.host,
      csrfToken: opts.login ? (session?.csrfToken ?? '') : opts.csrfToken,
      auth: opts.login ? 'login' : 'token',
      loginRequired: opts.login && !session,
      user: session?.userid ?? null,
      pendingBatch: { path: PENDING_BATCH_PATH, maxVmids: PENDING_BATCH_MAX_VMIDS },
    };
    return config;
  });
}
