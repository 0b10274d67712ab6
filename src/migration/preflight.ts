// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What `apply` checks before it opens a journal: that PVE accepts the token at all, and which of
 * the privileges the saved plan's writes and reboots need the token lacks (the same privileges the
 * planner gates on: VM.Config.HWType for `scsihw`, VM.Config.Disk for drives, VM.PowerMgmt for a
 * reboot or the staged path). A token that may do none of the work is one error naming the
 * privileges once, not one "skipped" per VM.
 */
import type { PveClient } from '../api/client.js';
import { fetchPermissions } from '../api/endpoints/access.js';
import { PveAuthError, PveConnectionError } from '../api/errors.js';
import type { RebootPolicy } from './journal-model.js';
import { MigrationReadError } from './online.js';
import { vmPrivileges } from './privileges.js';
import type { MigrationPlan, PermissionMap, VmPlan } from './types.js';

/** The privileges one planned VM needs on /vms/{vmid} under this reboot policy. */
export function privilegesNeeded(vm: VmPlan, reboot: RebootPolicy): string[] {
  const need = new Set<string>();
  for (const c of vm.changes) need.add(c.key === 'scsihw' ? 'VM.Config.HWType' : 'VM.Config.Disk');
  const power = vm.path === 'staged' || (vm.coldStartNeeded && reboot !== 'never');
  if (power) need.add('VM.PowerMgmt');
  return [...need].sort();
}

/** Missing privilege -> the VMs that need it; empty when the token may do everything asked. */
export function missingPrivileges(vms: readonly VmPlan[], perms: PermissionMap, reboot: RebootPolicy): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const vm of vms) {
    const have = vmPrivileges(perms, vm.vmid);
    for (const p of privilegesNeeded(vm, reboot).filter((x) => !have.has(x))) out.set(p, [...(out.get(p) ?? []), vm.vmid]);
  }
  return out;
}

/** `VM.Config.Disk on /vms/100, /vms/101; VM.PowerMgmt on /vms/100`. */
export function describeMissing(missing: Map<string, number[]>): string {
  return [...missing].map(([p, ids]) => `${p} on ${ids.map((id) => `/vms/${id}`).join(', ')}`).join('; ');
}

/**
 * Reads the token's permissions for the VMs `apply` is about to work on.
 * @returns the missing privileges (empty map: all there), or null when PVE would not list them
 *   (then the engine's per-VM checks decide)
 * @throws MigrationReadError when PVE refuses the token or cannot be reached: nothing to apply with
 */
export async function applyPreflight(
  client: PveClient,
  plan: MigrationPlan,
  todo: readonly VmPlan[],
  reboot: RebootPolicy,
  pve: string,
): Promise<Map<string, number[]> | null> {
  let perms: PermissionMap;
  try {
    perms = await fetchPermissions(client);
  } catch (err) {
    if (err instanceof PveAuthError) {
      throw new MigrationReadError(`${pve || plan.pve || 'PVE'}: the API token was refused (${err.message.split('\n')[0]}): check the token file and that the token exists; nothing was written`);
    }
    if (err instanceof PveConnectionError) {
      throw new MigrationReadError(`${pve || plan.pve || 'PVE'}: ${err.request}: ${err.message.replace(/\n/g, '; ')}; nothing was written`, { cause: err });
    }
    return null;
  }
  return missingPrivileges(todo, perms, reboot);
}
