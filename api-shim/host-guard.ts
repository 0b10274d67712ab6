// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * DNS-rebinding guard: a page on `evil.example` whose name is re-resolved to 127.0.0.1 becomes
 * same-origin with a loopback shim and could read `/dp/config` and drive the API with the
 * shim's token. Browsers still send `Host: evil.example`, so only the names the shim is meant
 * to be reached by are answered.
 */

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

/** RFC 9110 §7.2 `Host = uri-host [ ":" port ]`: a name or an IPv4 address, or an IPv6 address in brackets, then an optional port. */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]]*)(?::[0-9]{1,5})?$/;

/**
 * Why a request with this `Host` header is refused (403 `DP_HOST_NOT_ALLOWED`), or null: the
 * name is neither a loopback name nor in `allowed`. Checked on every route, whatever address the
 * shim listens on.
 */
export function hostRefusal(allowed: ReadonlySet<string>, header: string | undefined): string | null {
  // `127.0.0.1:evil.example` read as the name before the last ':' was answered; a port is digits.
  if (header !== undefined && !HOST_HEADER.test(header)) return `Host '${header.slice(0, 80)}' is not host[:port]`;
  const name = hostName(header ?? '');
  if (isLoopbackHost(name) || allowed.has(name)) return null;
  const names = ['localhost', ...allowed].join(', ');
  return `Host '${name}' is not a name this pve-dataplane shim answers to (possible DNS rebinding); it answers to ${names} (--allowed-host)`;
}
