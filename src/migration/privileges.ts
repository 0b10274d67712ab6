// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The privileges the migration needs, resolved by the one resolver (src/pve/permissions.ts) on the
 * map `GET /access/permissions` returns.
 */
import { type PermissionMap, privilegesOn } from '../pve/permissions.js';

export { privilegesOn };

/**
 * Privileges on a VM. PVE's entry for `/vms/ID` already includes what its pool grants (pool
 * members are listed paths), so the pool is not looked up again.
 */
export function vmPrivileges(perms: PermissionMap, vmid: number): Set<string> {
  return privilegesOn(perms, `/vms/${vmid}`);
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
