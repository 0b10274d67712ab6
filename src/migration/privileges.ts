// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Privileges from `GET /access/permissions` (PVE-FACTS §4.1, §4.4).
 *
 * NOTE: PVE computes each listed path's privileges with inheritance already applied, so the entry
 * of the path itself is the answer when present; otherwise the nearest listed ancestor counts,
 * but only for privileges it propagates (value 1).
 */
import type { PermissionMap } from './types.js';

/** Privileges the caller holds on `path` (e.g. `/vms/101`, `/storage/local-lvm`). */
export function privilegesOn(perms: PermissionMap, path: string): Set<string> {
  const exact = perms[path];
  if (exact) return new Set(Object.keys(exact));
  const parts = path.split('/').filter((p) => p !== '');
  for (let n = parts.length - 1; n >= 0; n--) {
    const ancestor = '/' + parts.slice(0, n).join('/');
    const entry = perms[ancestor];
    if (entry) {
      return new Set(Object.entries(entry).filter(([, prop]) => prop === 1 || prop === true).map(([k]) => k));
    }
  }
  return new Set();
}

/** Privileges on a VM: its own path, plus its pool's when given (PVE grants through pools too). */
export function vmPrivileges(perms: PermissionMap, vmid: number, pool?: string | null): Set<string> {
  const privs = privilegesOn(perms, `/vms/${vmid}`);
  if (pool) for (const p of privilegesOn(perms, `/pool/${pool}`)) privs.add(p);
  return privs;
}
