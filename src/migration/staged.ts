// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The Windows staged path (docs/how-qemu-server-decides.md#guest-safety): Windows binds the vioscsi driver only to a device it
 * has seen while booting from its old controller. So:
 *   1. attach a small temporary disk on VirtIO SCSI, cold start, and check through the guest
 *      agent that the guest sees it (by serial);
 *   2. move the boot disk to VirtIO SCSI (with the other disk changes);
 *   3. remove the temporary disk (its volume is destroyed).
 *
 * NOTE: `scsihw` is one setting for all scsiN disks, so a boot disk that already sits on scsi
 * (lsi/megasas/pvscsi) cannot stay on its old controller while the temporary disk is on the new
 * one. Step 1 then parks the boot disk on a free sataN (AHCI, whose driver Windows ships) and
 * step 2 puts it back on its scsiN key. Every write happens on a stopped VM: a running VM would
 * hot-plug the temporary disk onto the old controller.
 */
import { toSataString } from './drive-target.js';
import { gate } from './gates.js';
import { bootOrder, renameInBootOrder } from './guest.js';
import { agentEnabled, freeKey, TARGET_SCSIHW } from './config-keys.js';
import { canRunGuestExec, guestExecPrivilege, privilegesOn } from './privileges.js';
import type { Drive } from '../pve/types.js';
import type { Gate, KeyChange, PlanOptions, PlanStep, PlanVmInput } from './types.js';

export interface StagedInput {
  vm: PlanVmInput;
  opts: PlanOptions;
  drives: Map<string, Drive>;
  /** Boot disks that move to VirtIO SCSI (the staged path needs exactly one). */
  bootDisk: string[];
  /** Net changes of the direct path. */
  draft: { set: Map<string, string>; delete: Set<string> };
  running: boolean;
  keysInUse: Set<string>;
  converted: { from: string; to: string; boot: boolean }[];
}

/** The staged steps, or why the path is refused (with the warnings found before refusing). */
export type StagedResult = { steps: PlanStep[]; changes: KeyChange[]; warnings: Gate[] } | { blocked: Gate; warnings: Gate[] };

/** Serial of the temporary disk; the guest-agent check looks for it (≤ 20 bytes, docs/how-qemu-server-decides.md#drive-keys). */
export function stagingSerial(vmid: number): string {
  return `DPSTAGE${vmid}`;
}

/**
 * Why the guest check cannot run for this token, or null. The check is `agent/exec` (Get-Disk);
 * without its privilege PVE answers 403 and apply pauses for `--confirm-staged`, so the plan says so
 * up front. Not checked as root@pam, without a permission map, or without an agent (then
 * WINDOWS_STAGED_NO_AGENT already says the check is manual).
 */
function agentPrivilegeGate(s: StagedInput, serial: string): Gate | null {
  const perms = s.vm.permissions;
  const vmid = s.vm.input.vmid;
  if (!perms || s.opts.authUser === 'root@pam' || !agentEnabled(s.vm.input.current.agent)) return null;
  if (canRunGuestExec(perms, vmid)) return null;
  const priv = guestExecPrivilege(s.opts.pveRelease, perms);
  const name = priv ?? 'VM.GuestAgent.Unrestricted (PVE 9; VM.Monitor on PVE 8)';
  return gate(
    'WINDOWS_STAGED_AGENT_PRIVILEGE',
    `the PVE user or API token in use lacks ${name} on /vms/${vmid}, which the guest check (agent/exec: does Windows see the temporary disk?) needs: apply pauses after the first cold start until you confirm it by hand`,
    {
      fix:
        `grant ${priv ?? 'VM.GuestAgent.Unrestricted (VM.Monitor on PVE 8)'} on /vms/${vmid} and plan again, or check Device Manager ` +
        `for the disk with serial ${serial} after the first cold start and run apply again with --confirm-staged ${vmid}`,
    },
  );
}

/** Steps and net changes of the staged path, or the reason it cannot be used. */
export function planStaged(s: StagedInput): StagedResult {
  const { vm, draft, drives } = s;
  const cur = vm.input.current;
  const vmid = vm.input.vmid;
  const serial = stagingSerial(vmid);
  const warnings: Gate[] = [];
  // Found first, so that a refusal below still shows everything the token cannot do.
  const agentGate = agentPrivilegeGate(s, serial);
  if (agentGate) warnings.push(agentGate);
  const refuse = (message: string, fix: string): StagedResult => ({
    blocked: gate('WINDOWS_BOOT_CONTROLLER', `staged path not possible: ${message}`, { fix }),
    warnings,
  });
  if (s.bootDisk.length !== 1) {
    return refuse(`the guest may boot from ${s.bootDisk.join(', ')}`, 'leave one disk in the boot order, then plan again');
  }
  const boot = s.bootDisk[0]!;
  const drive = drives.get(boot)!;
  if (!drive.storage) {
    return refuse(`${boot} has no storage (${drive.file}) to put the temporary disk on`, 'move the boot disk by hand');
  }
  const converted = s.converted.find((c) => c.from === boot);
  const temp = freeKey('scsi', [...s.keysInUse, ...draft.set.keys()]);
  if (!temp) return refuse('no free scsiN key for the temporary disk', 'free a scsi slot');
  if (vm.permissions && s.opts.authUser !== 'root@pam') {
    if (!privilegesOn(vm.permissions, `/storage/${drive.storage}`).has('Datastore.AllocateSpace')) {
      return refuse(
        `the PVE user or API token in use lacks Datastore.AllocateSpace on /storage/${drive.storage} for the temporary disk`,
        `grant Datastore.AllocateSpace on /storage/${drive.storage}`,
      );
    }
  }
  const tempValue = `${drive.storage}:1,backup=0,iothread=1,replicate=0,serial=${serial}`;
  const steps: PlanStep[] = [];
  const push = (step: Omit<PlanStep, 'n'>): number => {
    steps.push({ ...step, n: steps.length + 1 });
    return steps.length;
  };
  if (s.running) push({ kind: 'shutdown', description: 'shut down: the staged writes need a stopped VM' });

  const write1: Record<string, string> = { scsihw: TARGET_SCSIHW, [temp]: tempValue };
  const delete1: string[] = [];
  const write2: Record<string, string> = {};
  const delete2: string[] = [...draft.delete];
  for (const [k, v] of draft.set) if (k !== 'scsihw') write2[k] = v;
  if (!converted) {
    // The boot disk is on scsi: park it on sata while the temporary disk binds the driver.
    const park = freeKey('sata', [...s.keysInUse, ...draft.set.keys()]);
    if (!park) return refuse('no free sataN key to park the boot disk on', 'free a sata slot');
    const order = bootOrder(cur.boot);
    if (order?.includes(boot)) {
      write1.boot = renameInBootOrder(cur.boot!, boot, park);
      write2.boot = cur.boot!;
    } else if (cur.bootdisk === boot) {
      write1.bootdisk = park;
      write2.bootdisk = boot;
    } else {
      return refuse(`the boot order does not name ${boot}`, `set 'boot: order=${boot};…' first`);
    }
    const sata = toSataString(drive);
    write1[park] = sata.value;
    delete1.push(boot);
    write2[boot] = draft.set.get(boot) ?? cur[boot]!;
    delete2.push(park);
    if (sata.dropped.length > 0) {
      warnings.push(
        gate(
          'CONVERT_OPTION_DROPPED',
          `${boot} is parked on ${park} during staging without ${sata.dropped.join(', ')} (restored in step 2)`,
          { disk: boot },
        ),
      );
    }
  }
  if (!agentEnabled(cur.agent)) {
    warnings.push(
      gate(
        'WINDOWS_STAGED_NO_AGENT',
        'the guest agent is not enabled: apply pauses after the first cold start until you confirm that Windows sees the temporary disk',
        { fix: `check Device Manager for the disk with serial ${serial}, then run apply again with --confirm-staged ${vmid}` },
      ),
    );
  }
  const w1: PlanStep = {
    n: 0,
    kind: 'write',
    description: `step 1: attach temporary disk ${temp} on VirtIO SCSI`,
    set: write1,
    allocates: [temp],
  };
  if (delete1.length > 0) w1.delete = delete1;
  const w1n = push(w1);
  push({ kind: 'cold-start', description: 'start the VM so Windows binds vioscsi to the temporary disk' });
  push({ kind: 'verify-guest-disk', description: `guest agent: the guest sees disk serial ${serial}`, disk: temp, serial });
  push({ kind: 'shutdown', description: 'shut down before moving the boot disk' });
  const w2: PlanStep = { n: 0, kind: 'write', description: `step 2: move boot disk ${boot} to VirtIO SCSI`, set: write2 };
  if (delete2.length > 0) w2.delete = delete2;
  const w2n = push(w2);
  push({ kind: 'write', description: `step 3: remove temporary disk ${temp}`, delete: [temp], force: true });
  if (s.running) push({ kind: 'cold-start', description: 'start the VM again (it was running)' });

  const changes: KeyChange[] = [
    ...[...draft.set].map(([key, after]) => ({ key, before: cur[key] ?? null, after, step: key === 'scsihw' ? w1n : w2n })),
    ...[...draft.delete].map((key) => ({ key, before: cur[key] ?? null, after: null, step: w2n })),
  ];
  return { steps, changes, warnings };
}
