// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/api2/json/*` -> PVE, reads only. In this encapsulated plugin, in order, every request:
 * 1. has its raw path checked (`..`, encoded `/`, NUL: 400 `DP_BAD_PATH`);
 * 2. unless GET/HEAD, is refused before any byte goes upstream: 403 `DP_AUDIT_READ_ONLY` under
 *    `--read-only`, else 403 `DP_PATH_NOT_ALLOWED` (changes run as the shim's jobs, never through
 *    the proxy);
 * 3. must be on the allow-list of the audit's reads, with only the query parameters the audit
 *    sends on it (403 `DP_PATH_NOT_ALLOWED`; a malformed query 400 `DP_BAD_PATH`), then waits for
 *    a slot of its user's pacing (api-shim/user-limiter.ts);
 * 4. goes upstream with a header set built from scratch: the few content-negotiation headers a
 *    GET needs plus the credentials the shim holds (the token, or the signed-in user's ticket).
 *    Nothing that frames a message (length, encoding, connection, upgrade, expect) or carries the
 *    browser's credentials is copied;
 * 5. comes back with only the content headers of PVE's answer: no `Set-Cookie`, no CORS
 *    (`Access-Control-*`: an upstream or a proxy in front of it that sends them would let other
 *    origins read the cluster through the shim), no hop-by-hop headers, and the shim's own
 *    security headers instead of any PVE sent.
 * Upstream TLS is verified (system CAs or `ca`) or pinned by fingerprint through the same agent
 * the CLI uses (src/node/tls.ts).
 */
import http from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { createPveAgent } from '../../src/node/tls.js';
import { isAllowedCall, queryRefusal } from '../allow-list.js';
import { DP_AUDIT_READ_ONLY, DP_BAD_PATH, DP_PATH_NOT_ALLOWED, DP_RATE_LIMITED, DP_UPSTREAM_UNREACHABLE, sendShimError } from '../errors.js';
import { sessionOf } from '../session-of.js';
import { UserLimiter } from '../user-limiter.js';
import type { ResolvedShimOptions } from '../options.js';
import { checkApiPath } from '../request-path.js';
import { upstreamCredentials } from '../upstream-credentials.js';

/** Where the PVE API lives, on PVE and on the shim. */
export const API_PREFIX = '/api2/json';

/** Request headers copied from the browser's GET; everything else is dropped. */
export const FORWARDED_REQUEST_HEADERS: readonly string[] = ['accept', 'accept-encoding', 'accept-language', 'if-none-match', 'if-modified-since'];

/** Response headers copied from PVE's answer; everything else is dropped. */
export const FORWARDED_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'cache-control',
  'expires',
  'pragma',
  'date',
  'etag',
  'last-modified',
  'vary',
];

/** Reads one user may have waiting for a slot; beyond, 429 (the panel sends a handful at once; more is a runaway client). */
const MAX_QUEUED_PER_USER = 2000;

/** Upstream sockets; pveproxy runs 3 workers per node, more only queue there. */
const UPSTREAM_SOCKETS = 8;

function pick<T>(headers: Record<string, T>, names: readonly string[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(headers)) if (names.includes(k.toLowerCase()) && v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

/** Registers the guarded proxy. */
export async function pveProxy(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  const limiter = new UserLimiter(opts.limits.concurrency, opts.limits.perSecond, MAX_QUEUED_PER_USER);
  const releases = new WeakMap<FastifyRequest['raw'], () => void>();
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const check = checkApiPath(request.raw.url ?? '', API_PREFIX);
    if (!check.ok) return sendShimError(reply, DP_BAD_PATH, `refused path: ${check.reason}`);
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      if (opts.readOnly) {
        return sendShimError(reply, DP_AUDIT_READ_ONLY, `read-only mode: ${method} ${check.path} refused by pve-dataplane (started with --read-only); nothing was sent to PVE`);
      }
      return sendShimError(
        reply,
        DP_PATH_NOT_ALLOWED,
        `${method} ${check.path}: the shim forwards no writes; changes run as its jobs (POST /dp/jobs) from a saved plan`,
      );
    }
    if (!isAllowedCall(method, check.path)) {
      return sendShimError(reply, DP_PATH_NOT_ALLOWED, `${method} ${check.path} is not an API call pve-dataplane makes; the shim forwards only those`);
    }
    const url = request.raw.url ?? '';
    const q = url.indexOf('?');
    const refusal = queryRefusal(method, check.path, q < 0 ? '' : url.slice(q + 1));
    if (refusal) return sendShimError(reply, refusal.status === 403 ? DP_PATH_NOT_ALLOWED : DP_BAD_PATH, `refused query: ${refusal.reason}; nothing was sent to PVE`);
    const user = sessionOf(request)?.userid ?? 'token';
    const release = await limiter.acquire(user);
    if (!release) return sendShimError(reply, DP_RATE_LIMITED, `too many requests from ${user} waiting for PVE; retry shortly`);
    releases.set(request.raw, release);
    return undefined;
  });
  // Whatever ends the exchange frees the slot: the answer sent, or the client gone.
  const free = async (request: FastifyRequest): Promise<void> => {
    releases.get(request.raw)?.();
    releases.delete(request.raw);
  };
  app.addHook('onResponse', free);
  app.addHook('onRequestAbort', free);

  const agents =
    opts.upstream.protocol === 'https:'
      ? {
          'https:': createPveAgent({
            ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
            ...(opts.ca ? { ca: opts.ca } : {}),
            insecure: opts.insecure,
            maxSockets: UPSTREAM_SOCKETS,
            warn: opts.warn,
          }),
          'http:': new http.Agent({ keepAlive: true, maxSockets: UPSTREAM_SOCKETS }),
        }
      : { 'http:': new http.Agent({ keepAlive: true, maxSockets: UPSTREAM_SOCKETS }), 'https:': undefined as never };

  await app.register(httpProxy, {
    upstream: opts.upstream.origin,
    prefix: API_PREFIX,
    rewritePrefix: `${opts.upstream.pathname.replace(/\/$/, '')}${API_PREFIX}`,
    // node:http (not undici) so the pinning agent decides TLS.
    http: { agents, requestOptions: { timeout: opts.upstreamTimeoutMs } },
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => {
        const out: Record<string, unknown> = pick(headers as Record<string, unknown>, FORWARDED_REQUEST_HEADERS);
        // reply-from has already set it to the upstream's host.
        out['host'] = headers.host;
        Object.assign(out, upstreamCredentials(opts, request as FastifyRequest));
        return out as typeof headers;
      },
      rewriteHeaders: (headers) => pick(headers as Record<string, unknown>, FORWARDED_RESPONSE_HEADERS) as typeof headers,
      onError: (reply, { error }) => {
        // reply-from answers 500 for an unreachable upstream; 502 says whose fault it is.
        const e = error as Error & { code?: string; cause?: { message?: string } };
        const detail = e.cause?.message ?? e.message;
        void sendShimError(reply as FastifyReply, DP_UPSTREAM_UNREACHABLE, `PVE at ${opts.upstream.host} not reachable: ${detail}`);
      },
    },
  });
}
