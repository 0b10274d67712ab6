// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * DNS-rebinding guard: a page on `evil.example` whose name is re-resolved to 127.0.0.1 becomes
 * same-origin with a loopback shim and could read `/dp/config` and drive the API with the
 * shim's token. Browsers still send `Host: evil.example`, so only the names the shim is meant
 * to be reached by are answered.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DP_HOST_NOT_ALLOWED, sendShimError } from './errors.js';

/** `host:port`, `[v6]:port`, `host` -> the lower-case host name (v6 without brackets kept in both forms by the caller). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/**
 * True for 127.0.0.0/8, ::1, localhost and the IPv4-mapped loopback `::ffff:127.x.y.z`, with or
 * without IPv6 brackets. A name a page can be rebound to is never one of these.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * An onRequest hook answering 403 `DP_HOST_NOT_ALLOWED` for a Host that is neither a loopback
 * name nor in `allowed`. Runs for every route, whatever address the shim listens on.
 */
export function hostGuard(allowed: ReadonlySet<string>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const name = hostName(request.headers.host ?? '');
    if (isLoopbackHost(name) || allowed.has(name)) return undefined;
    const names = ['localhost', ...allowed].join(', ');
    return sendShimError(
      reply,
      DP_HOST_NOT_ALLOWED,
      `Host '${name}' is not a name this pve-dataplane shim answers to (possible DNS rebinding); it answers to ${names} (--allowed-host)`,
    );
  };
}
