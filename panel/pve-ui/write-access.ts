// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the PVE user may do to a VM from the Disk I/O tab, from their `/access/permissions`
 * through the core's privilege resolver. PVE enforces the same privileges on every request; this
 * only decides which controls to show.
 */
import type { PermissionMap } from '../../src/api/endpoints/access.js';
import { vmPrivileges } from '../../src/migration/privileges.js';

/** Privileges the one config write needs: drives (VM.Config.Disk) and scsihw (VM.Config.HWType). */
export const WRITE_PRIVILEGES = ['VM.Config.Disk', 'VM.Config.HWType'] as const;
/** The reboot the "now" policy asks PVE for. */
export const REBOOT_PRIVILEGE = 'VM.PowerMgmt';

export interface WriteAccess {
  /** The migration write may be offered. */
  canWrite: boolean;
  /** A reboot through PVE may be offered. */
  canReboot: boolean;
  /** Write privileges the user lacks on `/vms/{vmid}` (empty when `canWrite`). */
  missing: string[];
}

/** Access on one VM; no permission map (unreadable) means no write controls. */
export function vmWriteAccess(perms: PermissionMap | null, vmid: number): WriteAccess {
  if (!perms) return { canWrite: false, canReboot: false, missing: [...WRITE_PRIVILEGES] };
  const privs = vmPrivileges(perms, vmid);
  const missing = WRITE_PRIVILEGES.filter((p) => !privs.has(p));
  return { canWrite: missing.length === 0, canReboot: missing.length === 0 && privs.has(REBOOT_PRIVILEGE), missing };
}

/** Why the controls are hidden, in words for the tab. */
export function readOnlyReason(access: WriteAccess, vmid: number): string {
  return `your PVE user lacks ${access.missing.join(' and ')} on /vms/${vmid}; PVE would refuse the write.`;
}

/**
 * Whether the Datacenter and Node tabs offer Apply: the user holds the write privileges on some
 * VM (on `/`, `/vms`, a pool, or one VM). Which VMs a plan may write is the planner's gate per
 * VM (it reads the same map), and PVE checks every write again.
 */
export function fleetWriteAccess(perms: PermissionMap | null): boolean {
  if (!perms) return false;
  return Object.entries(perms).some(
    ([path, privs]) => (path === '/' || path === '/vms' || path.startsWith('/vms/') || path.startsWith('/pool/')) && WRITE_PRIVILEGES.every((p) => p in privs),
  );
}
