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

/** What `agent/exec` (and `exec-status`) check on `/vms/{vmid}`, by PVE release. */
export type GuestExecPrivilege = 'VM.GuestAgent.Unrestricted' | 'VM.Monitor';

/**
 * The privilege the staged path's guest check needs: PVE 9 checks VM.GuestAgent.Unrestricted on
 * agent/exec (9.1 API schema) and removed VM.Monitor; PVE 8 checks VM.Monitor. The release comes
 * from `/version` when known; otherwise from the permission map itself (each release lists only
 * its own names); null when neither tells.
 */
export function guestExecPrivilege(release: string | null | undefined, perms: PermissionMap): GuestExecPrivilege | null {
  const major = release ? Number.parseInt(release, 10) : NaN;
  if (Number.isFinite(major)) return major >= 9 ? 'VM.GuestAgent.Unrestricted' : 'VM.Monitor';
  const names = Object.values(perms).flatMap((p) => Object.keys(p));
  if (names.some((n) => n.startsWith('VM.GuestAgent.') || n === 'VM.Replicate')) return 'VM.GuestAgent.Unrestricted';
  if (names.includes('VM.Monitor')) return 'VM.Monitor';
  return null;
}

/** True when the caller may run the guest-agent check on the VM (either release's privilege). */
export function canRunGuestExec(perms: PermissionMap, vmid: number): boolean {
  const privs = vmPrivileges(perms, vmid);
  return privs.has('VM.GuestAgent.Unrestricted') || privs.has('VM.Monitor');
}
