// SPDX-License-Identifier: AGPL-3.0-or-later
import type { PveClient, RequestOptions } from '../client.js';

/**
 * `GET /version`. Since PVE 8.0 `version` is `X.Y.Z` and `repoid` 16 hex chars; PVE <= 7 used
 * `X.Y-Z` and 8 hex chars (and 6.x sent a `keyboard` member that no longer exists).
 */
export interface PveVersion {
  /** Full pve-manager version of the answering node, e.g. `9.2.11` (`6.2-4` on PVE 6). */
  version: string;
  /** `x.y`. */
  release: string;
  repoid: string;
  console?: 'applet' | 'vv' | 'html5' | 'xtermjs';
  [member: string]: unknown;
}

/** `GET /version` (any authenticated user). */
export function fetchVersion(client: PveClient, options?: RequestOptions): Promise<PveVersion> {
  return client.get<PveVersion>('/version', undefined, options);
}
