// SPDX-License-Identifier: AGPL-3.0-or-later
import type { PermissionMap } from '../../pve/permissions.js';
import type { PveClient, RequestOptions } from '../client.js';

export type { PermissionMap };

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
