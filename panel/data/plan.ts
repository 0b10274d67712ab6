// SPDX-License-Identifier: AGPL-3.0-or-later
/** The migration plan of the ticked VMs, by the same planner as `pve-dataplane plan`. */
import { buildPlan } from '../../src/migration/planner.js';
import { riskFactsFromConfig } from '../../src/analysis/risk/index.js';
import type { VmReport } from '../../src/analysis/types.js';
import type { MigrationPlan, PlanVmInput, TargetAio, VmPlan } from '../../src/migration/types.js';
import { busLabel, scsihwLabel } from '../strings.js';
import type { FleetAudit } from './fleet-audit.js';

/**
 * Plans `vmids` of `audit` (writes nothing). Each VM's evidence from its config and the node facts
 * the audit read (the node's pve-qemu-kvm, running QEMU, tags) goes to the planner as the CLI's
 * `plan` passes it, so the gates that depend on the node's QEMU build (PVE_QEMU_TMF_DEADLOCK of a
 * FreeBSD guest) block here too.
 */
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
        evidence: riskFactsFromConfig(input, audit.env),
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

/**
 * Where a VM of the plan stands, as the preview groups it:
 * - `write`: one digest-guarded config write, then the reboot choice;
 * - `written`: our change already sits in PVE's pending config (an earlier run wrote it): no
 *   second write, only a cold start makes it run;
 * - `blocked`: a gate stops it (the reasons are listed);
 * - `nothing`: nothing this migration changes (why is said by `nothingToChange`).
 */
export type VmPlanState = 'write' | 'written' | 'blocked' | 'nothing';

export function vmPlanState(vm: VmPlan): VmPlanState {
  if (vm.blocked.length > 0) return 'blocked';
  if (!vm.eligible) return 'nothing';
  return vm.steps.some((s) => s.kind === 'write') ? 'write' : 'written';
}

/** VMIDs by state, in plan order. */
export function groupByState(plan: MigrationPlan): Record<VmPlanState, VmPlan[]> {
  const out: Record<VmPlanState, VmPlan[]> = { write: [], written: [], blocked: [], nothing: [] };
  for (const vm of plan.vms) out[vmPlanState(vm)].push(vm);
  return out;
}

/**
 * Why a VM has nothing to change, in PVE's words and true for this VM: a VM on VirtIO SCSI (not
 * single) whose disks are all on SATA is not "already on VirtIO SCSI single": its controller
 * serves no disk, and SATA/IDE disks have no IO thread to turn on.
 */
export function nothingToChange(vm: VmPlan, report: VmReport | undefined, aio: TargetAio): string {
  const disks = (report?.disks ?? []).filter((d) => d.media === 'disk' && !d.onlyPending);
  const onTarget = disks.filter((d) => d.bus === 'scsi' || d.bus === 'virtio');
  const others = disks.filter((d) => d.bus === 'sata' || d.bus === 'ide');
  if (disks.length === 0) return 'Nothing to change: the VM has no hard disk.';
  if (onTarget.length === 0) {
    const buses = [...new Set(others.map((d) => busLabel(d.bus)))].join('/');
    const keys = others.map((d) => d.key).join(', ');
    return (
      `Nothing to change: ${keys} ${others.length === 1 ? 'is' : 'are'} on ${buses}, where QEMU has no IO thread; ` +
      `pve-dataplane leaves ${buses} disks alone (the CLI's --convert-${others.some((d) => d.bus === 'ide') ? 'ide' : 'sata'} moves data disks to SCSI). ` +
      `SCSI Controller stays ${scsihwLabel(report?.scsihw.configured ?? null)}.`
    );
  }
  const scsi = onTarget.some((d) => d.bus === 'scsi');
  const aioText = aio === 'keep' ? '' : ` and Async IO ${aio}`;
  return (
    `Nothing to change: ${scsi ? `SCSI Controller is ${scsihwLabel('virtio-scsi-single')}; ` : ''}` +
    `${onTarget.map((d) => d.key).join(', ')} already run${onTarget.length === 1 ? 's' : ''} with IO thread${aioText}.` +
    (others.length > 0 ? ` ${others.map((d) => d.key).join(', ')} stay on ${[...new Set(others.map((d) => busLabel(d.bus)))].join('/')}.` : '') +
    (vm.warnings.length > 0 ? ' See the warnings.' : '')
  );
}
