// SPDX-License-Identifier: AGPL-3.0-or-later
/** The checks every write through the shim passes: read-only mode first, then the CSRF token. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DP_AUDIT_READ_ONLY, DP_CSRF, sendShimError } from './errors.js';
import type { ResolvedShimOptions } from './options.js';

/** Constant-time comparison of the `CSRFPreventionToken` header with the shim's token. */
export function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Refuses `what` (a write) in read-only mode (403 `DP_AUDIT_READ_ONLY`) or without the CSRF
 * token (403 `DP_CSRF`); returns the reply when it refused, `undefined` to go on.
 */
export function refuseWrite(request: FastifyRequest, reply: FastifyReply, opts: ResolvedShimOptions, what: string): FastifyReply | undefined {
  if (opts.readOnly) {
    return sendShimError(reply, DP_AUDIT_READ_ONLY, `read-only mode: ${what} refused by pve-dataplane (started with --read-only); nothing was sent to PVE`);
  }
  if (!sameSecret(request.headers['csrfpreventiontoken'], opts.csrfToken)) {
    return sendShimError(reply, DP_CSRF, `${what} without the shim's CSRFPreventionToken (from /dp/config); cross-site requests cannot write`);
  }
  return undefined;
}
