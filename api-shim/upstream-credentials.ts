// SPDX-License-Identifier: AGPL-3.0-or-later
/** The credential headers a forwarded read carries: the shim's token, or the signed-in user's ticket. */
import type { FastifyRequest } from 'fastify';
import { tokenHeader } from '../src/api/auth.js';
import type { ResolvedShimOptions } from './options.js';
import { sessionOf } from './session-of.js';

/** Headers to add to an upstream read made on behalf of `request` (none without credentials). */
export function upstreamCredentials(opts: ResolvedShimOptions, request: FastifyRequest): Record<string, string> {
  if (opts.token) return { authorization: tokenHeader(opts.token) };
  const session = sessionOf(request);
  return session ? { cookie: `PVEAuthCookie=${session.ticket}` } : {};
}
