// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * DNS-rebinding guard: a page on `evil.example` whose name is re-resolved to 127.0.0.1 becomes
 * same-origin with a loopback shim and could read `/dp/config` and drive the API with the
 * shim's token. Browsers still send `Host: evil.example`, so only the names the shim is meant
 * to be reached by are answered.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DP_HOST_NOT_ALLOWED, sendShimError } from './errors.js';

/** Names a loopback listener is reached by. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1', '[::1]'];

/** `host:port`, `[v6]:port`, `host` -> the lower-case host name (v6 without brackets kept in both forms by the caller). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** An onRequest hook answering 403 `DP_HOST_NOT_ALLOWED` for other Host names. */
export function hostGuard(allowed: ReadonlySet<string>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const name = hostName(request.headers.host ?? '');
    if (allowed.has(name) || (allowed.has('127.0.0.1') && /^127\.\d+\.\d+\.\d+$/.test(name))) return undefined;
    return sendShimError(
      reply,
      DP_HOST_NOT_ALLOWED,
      `Host '${name}' is not a name this pve-dataplane shim answers to (possible DNS rebinding); use ${[...allowed][0] ?? 'its address'}`,
    );
  };
}
