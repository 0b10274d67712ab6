// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Checks the raw request path before anything matches or forwards it. Upstream, `%2E%2E` or an
 * encoded slash would be decoded by pveproxy and could address a path the allow-list never saw
 * (the class of bug of GHSA-2q7r-29rg-6m5h in @fastify/reply-from), so such paths are refused
 * outright rather than normalised.
 */

/** `query`: the raw query string after `?` ('' without one), not decoded. */
export type PathCheck = { ok: true; path: string; query: string } | { ok: false; reason: string };

/**
 * `rawUrl` is the request target as sent (`/api2/json/nodes?x=1`); `prefix` is `/api2/json`.
 * Returns the decoded path below the prefix and the raw query, or why it is refused.
 */
export function checkApiPath(rawUrl: string, prefix: string): PathCheck {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  if (!rawPath.startsWith(`${prefix}/`) && rawPath !== prefix) {
    return { ok: false, reason: `path is not below ${prefix}` };
  }
  const rest = rawPath.slice(prefix.length);
  if (rest === '' || rest === '/') return { ok: true, path: '/', query };
  if (rawPath.includes('\\')) return { ok: false, reason: 'backslash in path' };
  const segments = rest.slice(1).split('/');
  const decoded: string[] = [];
  for (const [i, raw] of segments.entries()) {
    // A single trailing slash is harmless (PVE ignores it); any other empty segment is not.
    if (raw === '' && i === segments.length - 1 && i > 0) continue;
    if (raw === '') return { ok: false, reason: 'empty path segment (//)' };
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return { ok: false, reason: `malformed percent-encoding in '${raw}'` };
    }
    if (seg === '.' || seg === '..') return { ok: false, reason: `'${raw}' segment (path traversal)` };
    if (/[/\\\0]/.test(seg)) return { ok: false, reason: `encoded '/', '\\' or NUL in '${raw}'` };
    decoded.push(seg);
  }
  return { ok: true, path: `/${decoded.join('/')}`, query };
}

/**
 * The request target PVE is sent for `rest` (below the prefix, `/nodes/pve1?x=1`, passed by
 * `checkApiPath`): each path segment decoded and encoded again, so PVE reads the path the shim
 * checked and not another spelling of it; the query as it came. Paths without `%` are already in
 * that form and are returned as they are.
 */
export function canonicalTarget(rest: string): string {
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  if (!path.includes('%')) return rest;
  const canonical = path
    .split('/')
    .map((seg) => encodeURIComponent(decodeURIComponent(seg)))
    .join('/');
  return q < 0 ? canonical : canonical + rest.slice(q);
}
