// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The shim's root onRequest hook, run first on every request of every route: the security
 * headers (security-headers.ts), then the framing rules (http-hygiene.ts), then the Host
 * allow-list (host-guard.ts), then where the request comes from (`crossSiteProblem`,
 * write-guard.ts). One synchronous hook rather than several async ones: they are on the path of
 * every proxied read, and each async hook costs a promise and a turn of the hook runner.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { DP_CSRF, DP_HOST_NOT_ALLOWED, sendShimError } from './errors.js';
import { hostRefusal } from './host-guard.js';
import { hygieneRefusal, refuseRequest } from './http-hygiene.js';
import { applySecurityHeaders } from './security-headers.js';
import { crossSiteProblem } from './write-guard.js';

/** The hook, for the host names the shim answers to besides the loopback names. */
export function requestGuard(allowedHosts: ReadonlySet<string>) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    applySecurityHeaders(reply);
    const refusal = hygieneRefusal(request.raw);
    // Answered here: not calling `done` ends the hook chain.
    if (refusal) return void refuseRequest(request, reply, refusal);
    const host = hostRefusal(allowedHosts, request.headers.host);
    if (host) return void sendShimError(reply, DP_HOST_NOT_ALLOWED, host);
    const site = crossSiteProblem(request.method, request.headers);
    if (site) return void sendShimError(reply, DP_CSRF, `a request from another site refused (${site}): only the panel's own pages may use the shim; nothing was sent to PVE`);
    done();
  };
}
