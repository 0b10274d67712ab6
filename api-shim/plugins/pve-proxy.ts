// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/api2/json/*` -> PVE. In this encapsulated plugin, in order, every request:
 * 1. has its raw path checked (`..`, encoded `/`, NUL: 400 `DP_BAD_PATH`);
 * 2. in read-only mode, is refused unless GET/HEAD (403 `DP_AUDIT_READ_ONLY`), before any
 *    byte goes upstream;
 * 3. if it writes, must carry the shim's CSRF token in `CSRFPreventionToken` (403 `DP_CSRF`):
 *    PVE does not ask an API token for one, but here the token is the shim's, and any page the
 *    user visits could otherwise post a form to it;
 * 4. must be on the allow-list (403 `DP_PATH_NOT_ALLOWED`);
 * 5. goes upstream with the browser's `Authorization`, `Cookie` and `CSRFPreventionToken`
 *    removed and the server-side `PVEAPIToken` added; `Set-Cookie` never comes back.
 * Upstream TLS is verified (system CAs or `ca`) or pinned by fingerprint through the same agent
 * the CLI uses (src/node/tls.ts).
 */
import http from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { tokenHeader } from '../../src/api/auth.js';
import { createPveAgent } from '../../src/node/tls.js';
import { isAllowedCall } from '../allow-list.js';
import { DP_BAD_PATH, DP_PATH_NOT_ALLOWED, DP_UPSTREAM_UNREACHABLE, sendShimError } from '../errors.js';
import type { ResolvedShimOptions } from '../options.js';
import { checkApiPath } from '../request-path.js';
import { refuseWrite } from '../write-guard.js';

/** Where the PVE API lives, on PVE and on the shim. */
export const API_PREFIX = '/api2/json';

/** Request headers that carry the browser's credentials; never forwarded. */
const BROWSER_CREDENTIALS = ['authorization', 'cookie', 'csrfpreventiontoken'];

/** Upstream sockets; pveproxy runs 3 workers per node, more only queue there. */
const UPSTREAM_SOCKETS = 8;

/** Registers the guarded proxy. */
export async function pveProxy(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  const authorization = tokenHeader(opts.token);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const check = checkApiPath(request.raw.url ?? '', API_PREFIX);
    if (!check.ok) return sendShimError(reply, DP_BAD_PATH, `refused path: ${check.reason}`);
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      const refused = refuseWrite(request, reply, opts, `${method} ${check.path}`);
      if (refused) return refused;
    }
    if (!isAllowedCall(method, check.path)) {
      return sendShimError(
        reply,
        DP_PATH_NOT_ALLOWED,
        `${method} ${check.path} is not an API call pve-dataplane makes; the shim forwards only those`,
      );
    }
    return undefined;
  });

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
      rewriteRequestHeaders: (_request, headers) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(headers)) {
          if (!BROWSER_CREDENTIALS.includes(k.toLowerCase())) out[k] = v;
        }
        out['authorization'] = authorization;
        return out as typeof headers;
      },
      rewriteHeaders: (headers) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(headers)) {
          if (k.toLowerCase() !== 'set-cookie') out[k] = v;
        }
        return out as typeof headers;
      },
      onError: (reply, { error }) => {
        // reply-from answers 500 for an unreachable upstream; 502 says whose fault it is.
        const e = error as Error & { code?: string; cause?: { message?: string } };
        const detail = e.cause?.message ?? e.message;
        void sendShimError(reply as FastifyReply, DP_UPSTREAM_UNREACHABLE, `PVE at ${opts.upstream.host} not reachable: ${detail}`);
      },
    },
  });
}
