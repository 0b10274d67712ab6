// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `PveClient`s to the upstream PVE with the shim's TLS rules, for work the shim does itself: jobs
 * (as the token, or as the signed-in user in login mode) and the login calls. One agent per shim.
 */
import http from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { FastifyRequest } from 'fastify';
import type { PveAuth } from '../src/api/auth.js';
import { PveClient } from '../src/api/client.js';
import { nodeTransport } from '../src/node/http-transport.js';
import { createPveAgent } from '../src/node/tls.js';
import type { ResolvedShimOptions } from './options.js';
import { sessionOf } from './session-of.js';

/** Requests the shim's own work puts on the wire at once, per client. */
export const UPSTREAM_CONCURRENCY = 4;
/** Sockets to PVE shared by all those clients. */
const SOCKETS = 16;

const agents = new WeakMap<ResolvedShimOptions, { httpAgent?: http.Agent; httpsAgent?: HttpsAgent }>();

function agentsOf(opts: ResolvedShimOptions): { httpAgent?: http.Agent; httpsAgent?: HttpsAgent } {
  let a = agents.get(opts);
  if (!a) {
    a =
      opts.upstream.protocol === 'http:'
        ? { httpAgent: new http.Agent({ keepAlive: true, maxSockets: SOCKETS }) }
        : {
            httpsAgent: createPveAgent({
              ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
              ...(opts.ca ? { ca: opts.ca } : {}),
              insecure: opts.insecure,
              maxSockets: SOCKETS,
              warn: () => {},
            }),
          };
    agents.set(opts, a);
  }
  return a;
}

/** A client with `auth`; `same-origin` in Node sends no credentials at all (the login calls). */
export function createClientWith(opts: ResolvedShimOptions, auth: PveAuth): PveClient {
  return new PveClient({
    baseUrl: `${opts.upstream.origin}${opts.upstream.pathname.replace(/\/$/, '')}`,
    auth,
    concurrency: UPSTREAM_CONCURRENCY,
    timeoutMs: opts.upstreamTimeoutMs,
    // Node's own http/https, not axios: half the CPU per request of a bulk job.
    transport: nodeTransport(agentsOf(opts)),
  });
}

/** The shim's token client (token mode). */
export function createUpstreamClient(opts: ResolvedShimOptions): PveClient {
  if (!opts.token) throw new Error('createUpstreamClient: login mode has no shim token; use upstreamClientFor(request)');
  return createClientWith(opts, { kind: 'token', token: `${opts.token.tokenId}=${opts.token.secret}` });
}

/**
 * The client a request's work runs with: the signed-in user's ticket in login mode (PVE's ACLs
 * decide), the shim's token otherwise. Null in login mode without a session.
 */
export function upstreamClientFor(opts: ResolvedShimOptions, request: FastifyRequest): PveClient | null {
  if (!opts.login) return createUpstreamClient(opts);
  const session = sessionOf(request);
  if (!session) return null;
  return createClientWith(opts, { kind: 'held-ticket', current: () => session.fresh() });
}
