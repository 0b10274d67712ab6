// SPDX-License-Identifier: AGPL-3.0-or-later
/** A `PveClient` to the upstream PVE with the shim's token and TLS rules, for work the shim does itself (apply). */
import http from 'node:http';
import { PveClient } from '../src/api/client.js';
import { createPveAgent } from '../src/node/tls.js';
import type { ResolvedShimOptions } from './options.js';

/** Requests the shim's own jobs put on the wire at once. */
export const UPSTREAM_CONCURRENCY = 4;

export function createUpstreamClient(opts: ResolvedShimOptions): PveClient {
  const base = `${opts.upstream.origin}${opts.upstream.pathname.replace(/\/$/, '')}`;
  return new PveClient({
    baseUrl: base,
    auth: { kind: 'token', token: `${opts.token.tokenId}=${opts.token.secret}` },
    concurrency: UPSTREAM_CONCURRENCY,
    timeoutMs: opts.upstreamTimeoutMs,
    ...(opts.upstream.protocol === 'http:'
      ? { httpAgent: new http.Agent({ keepAlive: true, maxSockets: UPSTREAM_CONCURRENCY }) }
      : {
          httpsAgent: createPveAgent({
            ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
            ...(opts.ca ? { ca: opts.ca } : {}),
            insecure: opts.insecure,
            maxSockets: UPSTREAM_CONCURRENCY,
            warn: () => {},
          }),
        }),
  });
}
