// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `GET /dp/config`: what the panel needs to know about this shim before it renders: whether
 * writes are refused (it then hides them and says why), which PVE it talks to (host only:
 * never the token, never the full URL with a path), and the CSRF token its writes must carry.
 * No CORS headers: another origin cannot read this answer.
 */
import type { FastifyInstance } from 'fastify';
import type { ResolvedShimOptions } from '../options.js';

/** The `/dp/config` answer. */
export interface ShimConfig {
  readOnly: boolean;
  /** `pve1:8006`. */
  upstream: string;
  /** Header `CSRFPreventionToken` every write must carry (same-origin pages only can read it). */
  csrfToken: string;
}

export async function auditMode(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  const config: ShimConfig = { readOnly: opts.readOnly, upstream: opts.upstream.host, csrfToken: opts.csrfToken };
  app.get('/dp/config', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return config;
  });
}
