// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What `serve` checks before it listens, so a wrong fingerprint, an unreachable PVE or a revoked
 * token stops it with one clear sentence instead of a shim that fails on every request: the TLS
 * handshake (through the same pinning agent the proxy uses), then in token mode that PVE accepts
 * the token (`GET /version`), in login mode that the login endpoint answers (`/version` without
 * credentials must be PVE's 401: the API is there and wants a login).
 */
import { PveAuthError, PveConnectionError, PveApiError } from '../src/api/errors.js';
import type { ResolvedShimOptions } from './options.js';
import { createClientWith, createUpstreamClient } from './upstream-client.js';

/** `serve` cannot start: the message says what failed and what to do. */
export class UpstreamCheckError extends Error {
  override name = 'UpstreamCheckError';
}

/** Resolves when PVE is usable in the configured mode. @throws UpstreamCheckError */
export async function checkUpstream(opts: ResolvedShimOptions): Promise<void> {
  const where = `PVE at ${opts.upstream.origin}`;
  const client = opts.login ? createClientWith(opts, { kind: 'same-origin' }) : createUpstreamClient(opts);
  try {
    await client.get('/version');
    if (opts.login) throw new UpstreamCheckError(`${where} answered /version without a login: it is not a PVE API (or not the one meant)`);
  } catch (err) {
    if (err instanceof UpstreamCheckError) throw err;
    if (opts.login && err instanceof PveAuthError) return;
    if (err instanceof PveConnectionError) {
      const tls = /certificate|fingerprint|self.signed|SSL|TLS/i.test(err.message);
      const hint = tls
        ? opts.fingerprint
          ? `its certificate does not match --fingerprint ${opts.fingerprint} (check it on the node: pvenode cert info)`
          : 'its certificate is not trusted; pin it with --fingerprint (pvenode cert info) or pass its CA'
        : 'check --pve and that pveproxy runs (systemctl status pveproxy)';
      throw new UpstreamCheckError(`${where} not reachable: ${err.message.split('\n')[0]}; ${hint}`);
    }
    if (err instanceof PveAuthError) {
      throw new UpstreamCheckError(`${where} refused the API token ${opts.token?.tokenId ?? ''} (401): check --token-file, or that the token still exists and has not expired`);
    }
    if (err instanceof PveApiError) throw new UpstreamCheckError(`${where} answered /version with ${err.status}: ${err.message.split('\n')[0]}`);
    throw err;
  }
}
