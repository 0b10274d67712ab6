// SPDX-License-Identifier: AGPL-3.0-or-later
/** The migration plan of the ticked VMs, by the same planner as `pve-dataplane plan`. */
import { buildPlan } from '../../src/migration/planner.js';
import type { MigrationPlan, PlanVmInput, TargetAio } from '../../src/migration/types.js';
import type { FleetAudit } from './fleet-audit.js';

/** Plans `vmids` of `audit` (writes nothing). */
export function planSelected(audit: FleetAudit, vmids: ReadonlySet<number>, aio: TargetAio = 'threads'): MigrationPlan {
  const reports = new Map(audit.report.vms.map((vm) => [vm.vmid, vm]));
  const inputs: PlanVmInput[] = audit.inputs
    .filter((i) => vmids.has(i.vmid) && reports.has(i.vmid))
    .map((input) => {
      const haState = input.runtime?.haState;
      return {
        input,
        report: reports.get(input.vmid)!,
        ha: haState ? { sid: `vm:${input.vmid}`, state: haState } : null,
        permissions: audit.permissions,
      };
    });
  // An API token (the shim's, or the browser's ticket user) is treated as not root@pam.
  return buildPlan(inputs, { aio, authUser: null });
}

/** The CLI commands that apply what the preview shows (the panel does not write itself). */
export function applyCommands(vmids: readonly number[], upstream: string): string[] {
  const pve = upstream ? `https://${upstream}` : 'https://PVE-HOST:8006';
  const list = [...vmids].sort((a, b) => a - b).join(',');
  return [
    `pve-dataplane plan --pve ${pve} --token-file TOKEN_FILE --vmid ${list} --output plan.json`,
    'pve-dataplane apply --pve ' + pve + ' --token-file TOKEN_FILE --from-plan plan.json --reboot never --yes',
  ];
}
