// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `GET /dp/config`: what the panel needs to know about this shim before it renders: whether
 * writes are refused (it then hides them and says why) and which PVE it talks to (host only:
 * never the token, never the full URL with a path).
 */
import type { FastifyInstance } from 'fastify';
import type { ResolvedShimOptions } from '../options.js';

/** The `/dp/config` answer. */
export interface ShimConfig {
  readOnly: boolean;
  /** `pve1:8006`. */
  upstream: string;
}

export async function auditMode(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  const config: ShimConfig = { readOnly: opts.readOnly, upstream: opts.upstream.host };
  app.get('/dp/config', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return config;
  });
}
