// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The one privilege resolver: which privileges the caller holds on an ACL path, read from the map
 * `GET /access/permissions` returns (see docs/how-qemu-server-decides.md, "Privileges").
 *
 * What PVE's answer means (pve-access-control PVE/RPCEnvironment.pm `get_effective_permissions`
 * and `compile_acl_path`, PVE/AccessControl.pm `roles`):
 * - Each listed path holds the privileges *effective on that path*, everything already applied:
 *   inheritance from parent paths (only roles granted with propagate), a more specific ACL
 *   replacing what was inherited, NoAccess, pool membership (for `/vms/ID` and `/storage/ID`),
 *   and for a privilege-separated token the intersection with its user's privileges.
 * - A privilege is held when its key is present; its value (1/0) only says whether it propagates
 *   further down from that path.
 * - Listed are `/`, `/access`, `/access/groups`, `/nodes`, `/pool`, `/sdn`, `/storage`, `/vms`,
 *   every path with an ACL and every pool member - minus the paths where nothing is held.
 *
 * So a listed path is answered by its own entry, never merged with its parents' (with
 * `{'/': {Datastore.Audit: 1}, '/storage/nas': {Datastore.AllocateSpace: 1}}` an ACL on
 * /storage/nas replaced the inherited role: Datastore.Audit is NOT held there). A path that is not
 * listed has no ACL of its own, so the nearest listed ancestor decides, with the privileges it
 * propagates. One blind spot of the map: a path where an ACL (NoAccess) took everything away is
 * left out of the listing, and then looks like it inherits from further up; only
 * `GET /access/permissions?path=…` (or the request itself) can tell.
 */

/** ACL path → privilege → propagate flag (1: also held below that path), as `GET /access/permissions` returns it. */
export type PermissionMap = Record<string, Record<string, 0 | 1>>;

/** `/vms/100/` and `vms//100` → `/vms/100`; `` → `/`. */
function normalisePath(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}

/** Privileges the caller holds on `path` (e.g. `/vms/101`, `/storage/local-lvm`). */
export function privilegesOn(perms: PermissionMap, path: string): Set<string> {
  const parts = normalisePath(path);
  const own = perms['/' + parts.join('/')];
  if (own) return new Set(Object.keys(own));
  for (let n = parts.length - 1; n >= 0; n--) {
    const ancestor = perms['/' + parts.slice(0, n).join('/')];
    if (ancestor) return new Set(Object.entries(ancestor).filter(([, propagate]) => Number(propagate) === 1).map(([priv]) => priv));
  }
  return new Set();
}

/** True when the caller holds `privilege` on `path` (see {@link privilegesOn}). */
export function hasPrivilege(perms: PermissionMap, path: string, privilege: string): boolean {
  return privilegesOn(perms, path).has(privilege);
}
