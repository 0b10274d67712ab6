// SPDX-License-Identifier: AGPL-3.0-or-later
/** The credential headers a forwarded read carries: the shim's API token (token mode). */
import type { FastifyRequest } from 'fastify';
import { tokenHeader } from '../src/api/auth.js';
import type { ResolvedShimOptions } from './options.js';

/** Headers to add to an upstream read made on behalf of `request`. */
export function upstreamCredentials(opts: ResolvedShimOptions, _request: FastifyRequest): Record<string, string> {
  return opts.token ? { authorization: tokenHeader(opts.token) } : {};
}
