// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Fix steps (`RiskReason.steps`) in the panel's words: what to click in PVE, never a CLI flag. The
 * CLI prints the reason's `fix` (the JSON contract's text, which may name `--pve` or `--reboot`).
 */
import type { FixStep, RiskReason } from '../analysis/types.js';

function list(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? '');
}

/** One step as the panel says it (PVE's UI names: Hardware, SCSI Controller, Datacenter → Backup). */
export function panelStepText(step: FixStep): string {
  switch (step.action) {
    case 'set-scsihw':
      return 'Set the SCSI Controller to VirtIO SCSI single (Hardware → SCSI Controller)';
    case 'set-iothread':
      return `Enable IO thread on ${list(step.disks)} (Hardware → Hard Disk → Edit)`;
    case 'move-to-scsi':
      return `Move ${list(step.disks)} to the SCSI bus (IDE and SATA cannot have an IO thread)`;
    case 'set-aio':
      return `${step.ifStalls ? 'If the VM still stalls, set' : 'Set'} Async IO to threads on ${list(step.disks)} (Hard Disk → Edit → Advanced)${step.orCacheNone ? ', or Cache to No cache to keep native' : ''}`;
    case 'cold-start':
      return step.ha
        ? 'Reboot the VM from PVE (it is HA-managed: the reboot goes through HA); a reboot inside the guest does not apply it'
        : 'Reboot the VM from PVE, or Shutdown and Start it; a reboot inside the guest does not apply it';
    case 'guest-driver':
      return step.windows
        ? 'Install the VirtIO SCSI driver (vioscsi) in Windows before the boot disk moves'
        : 'Make sure the guest has the virtio_scsi driver in its initramfs before the boot disk moves';
    case 'correct-config':
      return `Correct ${step.key} in the VM's Hardware before the next start`;
    case 'check-storage':
      return `Storage '${step.storage}' is not defined: move ${list(step.disks)} to an existing storage, or add the storage`;
    case 'grant-privilege':
      return `Give the user or token that runs this panel ${step.privilege} (the PVEAuditor role has it), then reload`;
    case 'audit-online':
    case 'collect-evidence':
      return 'Reload to read it from PVE';
    case 'audit-later':
      return 'Reload once the VM has run for a while';
    case 'check-source':
      return `Check that ${step.source} answers, then reload`;
    case 'give-storage-cfg':
      return "Check the cluster's storage configuration (Datacenter → Storage), then reload";
    case 'enable-fleecing':
      return `${step.explicit ? 'Or set fleecing explicitly on' : 'Enable fleecing on'} backup job ${list(step.jobs)} (Datacenter → Backup → Edit → Advanced)`;
    case 'remove-io-limits':
      return `Remove the bandwidth/IOPS limits of ${list(step.disks)} if the storage can do without them; keep the IO thread`;
    case 'limit-vcpus':
      return `Give the VM at most ${step.max} vCPUs (Hardware → Processors)`;
    case 'rebalance-node':
      return `Reduce the vCPUs of idle VMs on ${step.node}, or migrate VMs to a less loaded node`;
    case 'snapshot-without-ram':
      return 'Take snapshots without RAM, or set the VM state storage to a fast local storage';
    case 'compare-node-logs':
      return "Compare the times of the timeouts with backup jobs, snapshots and the storage's latency on the node";
    case 'start-applies':
      return 'Nothing to do: starting the VM from PVE applies them';
    case 'update-package':
      return `Update ${step.package} to ${step.version} or later on the node (Node → Updates)`;
    case 'raise-machine':
      return `Run the VM on machine version ${step.version} or later (Hardware → Machine; unpinned VMs get it at the next start)`;
    case 'ignore-io-pressure':
      return "Judge stalls by QMP timeouts and the guest's own logs, not by the IO pressure figure";
  }
}

/** A reason's fix as the panel says it: its steps, one sentence each. */
export function panelFixText(reason: Pick<RiskReason, 'steps'>): string {
  return reason.steps.map((s) => `${panelStepText(s)}.`).join(' ');
}
