// SPDX-License-Identifier: AGPL-3.0-or-later
import type { PveClient, RequestOptions } from '../client.js';

/** ACL path -> privilege -> propagate (0/1), as `GET /access/permissions` returns it. */
export type PermissionMap = Record<string, Record<string, 0 | 1>>;

/**
 * `GET /access/permissions[?path=&userid=]`: the effective privileges of the caller (a token may
 * read its own). Used to name missing privileges up front instead of failing VM by VM.
 */
export function fetchPermissions(
  client: PveClient,
  params: { path?: string; userid?: string } = {},
  options?: RequestOptions,
): Promise<PermissionMap> {
  return client.get<PermissionMap>('/access/permissions', params, options);
}

/**
 * True when `privilege` holds on `path`, either set there or propagated from a parent path
 * (`/vms` covers `/vms/100`; `/` covers everything).
 */
export function hasPrivilege(perms: PermissionMap, path: string, privilege: string): boolean {
  if (perms[path]?.[privilege] !== undefined) return true;
  const parts = path.split('/').filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) {
    const parent = `/${parts.slice(0, i).join('/')}`;
    if (perms[parent]?.[privilege] === 1) return true;
  }
  return false;
}
