// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The safety gates of the migration: stable codes, which ones can be overridden and how.
 * A gate that `blocks` keeps the VM untouched; a warning is shown and the VM proceeds.
 */
import type { Gate } from './types.js';

export interface GateSpec {
  /** Short title for tables and docs. */
  title: string;
  /** How the user gets past it, when overriding is sane; absent = cannot be overridden. */
  override?: string;
}

/** Every gate code the planner and the apply engine emit. */
export const GATES = {
  VM_LOCKED: { title: 'VM is locked' },
  VM_TEMPLATE: { title: 'VM is a template' },
  FOREIGN_PENDING: { title: 'pending changes that are not ours' },
  MISSING_PRIVILEGE: { title: 'the PVE user or API token in use lacks a privilege the change needs' },
  POWERMGMT_MISSING: { title: 'no VM.PowerMgmt: cannot reboot' },
  PASSTHROUGH_ROOT_ONLY: {
    title: 'passthrough disk needs root@pam',
    override: '--override PASSTHROUGH_ROOT_ONLY (convert the other disks, leave this one as is)',
  },
  DRIVE_UNPARSABLE: { title: 'drive string PVE would reject' },
  WINDOWS_BOOT_CONTROLLER: {
    title: 'Windows boot disk moves to VirtIO SCSI',
    override:
      '--windows-staged (attach a temporary VirtIO SCSI disk first so Windows binds vioscsi), or ' +
      '--override WINDOWS_BOOT_CONTROLLER when the vioscsi driver is already bound',
  },
  WINDOWS_DATA_DISK_DRIVER: { title: 'Windows data disks need the vioscsi driver' },
  WINDOWS_STAGED_NO_AGENT: { title: 'no guest agent: staged path pauses for a manual check' },
  WINDOWS_STAGED_AGENT_PRIVILEGE: { title: 'token may not run the guest-agent check: staged path pauses for a manual check' },
  LINUX_INITRAMFS: { title: 'initramfs may lack virtio_scsi' },
  GUEST_DRIVER_UNKNOWN: { title: 'guest OS unknown: check it has a VirtIO SCSI driver' },
  DEVICE_RENAME: { title: 'guest device names change' },
  AIO_NATIVE_NEEDS_DIRECT: { title: 'aio=native needs a direct cache mode' },
  AIO_IO_URING_STORAGE: { title: 'io_uring is not PVE\'s default on this storage' },
  IDE_SATA_NOT_MOVED: { title: 'ide/sata disk stays where it is' },
  CONVERT_BOOT_DISK: {
    title: 'boot disk would change bus',
    override: '--override CONVERT_BOOT_DISK once the guest can boot from VirtIO SCSI',
  },
  PVE_QEMU_TMF_DEADLOCK: {
    title: 'FreeBSD guest onto VirtIO SCSI on a pve-qemu-kvm with the TMF-cancel deadlock',
    override: '--override PVE_QEMU_TMF_DEADLOCK once the node runs pve-qemu-kvm 10.1.2-1 or later (or the guest is not FreeBSD)',
  },
  CONVERT_NEEDS_STOP: { title: 'bus change needs a stopped VM' },
  CONVERT_OPTION_DROPPED: { title: 'option not valid on scsi is dropped' },
  NO_FREE_SCSI_SLOT: { title: 'no free scsiN key' },
  HA_MANAGED: { title: 'HA-managed VM' },
  OVERRIDDEN: { title: 'gate overridden by the user' },
} as const satisfies Record<string, GateSpec>;

export type GateCode = keyof typeof GATES;

/** Build a gate; the override text comes from the catalogue so it is the same everywhere. */
export function gate(code: GateCode, message: string, extra: { disk?: string; fix?: string } = {}): Gate {
  const spec: GateSpec = GATES[code];
  const g: Gate = { code, message };
  if (extra.disk !== undefined) g.disk = extra.disk;
  if (spec.override !== undefined) g.override = spec.override;
  if (extra.fix !== undefined) g.fix = extra.fix;
  return g;
}

/** True when the code can be overridden with `--override CODE`. */
export function isOverridable(code: string): boolean {
  return code in GATES && (GATES as Record<string, GateSpec>)[code]!.override !== undefined;
}

/** Codes `--override` accepts, in catalogue order. */
export function overridableCodes(): string[] {
  return Object.keys(GATES).filter(isOverridable);
}
