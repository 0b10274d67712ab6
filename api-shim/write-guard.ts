// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The checks every write to the shim's own endpoints (`/dp/...`) passes: read-only mode first,
 * then where the request comes from (Origin / Sec-Fetch-Site), then the CSRF token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DP_AUDIT_READ_ONLY, DP_CSRF, DP_LOGIN_REQUIRED, sendShimError } from './errors.js';
import type { ResolvedShimOptions } from './options.js';
import { sessionOf } from './session-of.js';

/** Constant-time comparison of the `CSRFPreventionToken` header with the expected token. */
export function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string' || expected === '') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Why a write's origin is refused, or null. Browsers send `Origin` on every POST and
 * `Sec-Fetch-Site` on every request; a same-origin page sends `Origin` equal to the address it
 * reached the shim by (`Host`). Clients without either (curl, the CLI's tests) still need the
 * CSRF token.
 */
export function crossOriginProblem(headers: FastifyRequest['headers']): string | null {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`;
  const origin = headers['origin'];
  if (origin === undefined) return null;
  if (typeof origin !== 'string' || origin === 'null') return 'an opaque Origin';
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return `Origin '${origin}' is not a URL`;
  }
  return host === String(headers.host ?? '').toLowerCase() ? null : `Origin '${origin}' is not this shim`;
}

/**
 * Why a request is refused for coming from another site, or null (a Fetch Metadata resource
 * isolation policy, for every route and method): a browser marks each request with
 * `Sec-Fetch-Site`, and the panel's own requests are `same-origin`. Another site's page could
 * otherwise make the shim read PVE with its credentials (`<img src=".../api2/json/nodes/N/syslog">`):
 * it cannot read the answer, but it spends the user's pacing slots and PVE's time, and the load
 * time tells it what exists. A link followed to the panel (a top-level GET navigation) is let
 * through; requests without the header (curl, older browsers) are judged by the other rules.
 */
export function crossSiteProblem(method: string, headers: FastifyRequest['headers']): string | null {
  const site = headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return null;
  if (headers['sec-fetch-mode'] === 'navigate' && (method === 'GET' || method === 'HEAD')) return null;
  return `Sec-Fetch-Site: ${String(site).slice(0, 40)}`;
}

/**
 * Refuses `what` (a write) in read-only mode (403 `DP_AUDIT_READ_ONLY`), from another origin or
 * without the CSRF token (403 `DP_CSRF`); returns the reply when it refused, `undefined` to go on.
 */
export function refuseWrite(request: FastifyRequest, reply: FastifyReply, opts: ResolvedShimOptions, what: string): FastifyReply | undefined {
  if (opts.readOnly) {
    return sendShimError(reply, DP_AUDIT_READ_ONLY, `read-only mode: ${what} refused by pve-dataplane (started with --read-only); nothing was sent to PVE`);
  }
  if (opts.login && !sessionOf(request)) return sendShimError(reply, DP_LOGIN_REQUIRED, `${what}: sign in first (POST /dp/login)`);
  const cross = crossOriginProblem(request.headers);
  if (cross) return sendShimError(reply, DP_CSRF, `${what} refused: ${cross} (cross-site requests cannot write)`);
  // In login mode each session has its own token; without a session nothing matches.
  const expected = opts.login ? (sessionOf(request)?.csrfToken ?? '') : opts.csrfToken;
  if (!sameSecret(request.headers['csrfpreventiontoken'], expected)) {
    return sendShimError(reply, DP_CSRF, `${what} without the shim's CSRFPreventionToken (from /dp/config); cross-site requests cannot write`);
  }
  return undefined;
}
