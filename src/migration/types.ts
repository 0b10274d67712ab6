// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shapes of a migration plan (`plan --output plan.json`, read back by `apply --from-plan`) and of
 * the planner's input. Pure data.
 *
 * NOTE: the plan file is a contract between two runs, maybe of two versions of the tool. Fields may
 * be added; `version` changes when a field changes meaning.
 */
import type { RiskEvidenceInput } from '../analysis/risk/types.js';
import type { RiskLevel, VmInput, VmReport } from '../analysis/types.js';

/** Version of the plan file format written by `plan --output`. */
export const PLAN_VERSION = 1;

/** The aio mode the migration writes on every scsi/virtio disk; `keep` leaves `aio` alone. */
export type TargetAio = 'threads' | 'io_uring' | 'native' | 'keep';

import type { PermissionMap } from '../pve/permissions.js';
import type { GateCode } from './gates.js';

/** `/access/permissions` answer (the one type, src/pve/permissions.ts). */
export type { PermissionMap };

/** HA state of a VM from `/cluster/ha/resources` (`sid: vm:<id>`); null when not HA-managed. */
export interface HaInfo {
  sid: string;
  /** `started`, `stopped`, `enabled`, `disabled`, `ignored` (PVE default: started). */
  state: string;
}

/** Everything the planner needs about one VM. */
export interface PlanVmInput {
  /** Raw values as read (current, pending, deletes, digest, node, runtime). */
  input: VmInput;
  /** The audit of `input` (effective controller/iothread/aio per disk, risk when computed). */
  report: VmReport;
  /** HA resource of the VM; null/absent when not HA-managed. */
  ha?: HaInfo | null;
  /** The caller's `/access/permissions`; absent when it could not be read (checks then skipped). */
  permissions?: PermissionMap | null;
  /**
   * The risk evidence of the VM (node's pve-qemu-kvm, guest OS), when the caller read it: the gates
   * that depend on the node's QEMU build (PVE_QEMU_TMF_DEADLOCK) run only with it.
   */
  evidence?: RiskEvidenceInput;
}

export interface PlanOptions {
  aio: TargetAio;
  /** Move sata data disks to scsi (behind gates). */
  convertSata?: boolean;
  /** Move ide data disks to scsi (behind gates). */
  convertIde?: boolean;
  /** Gate codes the user overrides (only codes marked overridable take effect). */
  overrides?: string[];
  /** Plan the Windows staged driver path instead of blocking (WINDOWS_BOOT_CONTROLLER). */
  windowsStaged?: boolean;
  /** Authenticated user id (`root@pam`, `user@pve!token`); only a root@pam ticket may touch /dev paths. */
  authUser?: string | null;
  /** Only VMs whose risk level is at least this one (when a risk level is present). */
  minRisk?: RiskLevel | null;
  /**
   * PVE release the plan is made against (`release` of `/version`, e.g. `9.1`), to name the
   * privileges that differ between releases (guest agent: VM.GuestAgent.* on 9, VM.Monitor on 8).
   */
  pveRelease?: string | null;
}

/** A reason that blocks a VM, or a warning; codes are stable (the catalogue is GATES in gates.ts). */
export interface Gate {
  code: GateCode;
  message: string;
  /** Disk key concerned, when the gate is about one disk. */
  disk?: string;
  /** How to get past it (a flag, or what to do in the guest); absent when it cannot be overridden. */
  override?: string;
  /** What to do about it. */
  fix?: string;
}

/** One config key that changes; `null` = absent (before) or removed (after). */
export interface KeyChange {
  key: string;
  before: string | null;
  after: string | null;
  /** The staged step (1-based index into `steps`) that writes it. */
  step: number;
  /** True when `after` already sits in [PENDING] (written by an earlier run). */
  alreadyPending?: boolean;
}

export type StepKind =
  /** One digest-guarded config POST: `set` and `delete` together. */
  | 'write'
  /** Make pending changes run: API reboot (running), start (stopped, staged path), per reboot policy. */
  | 'cold-start'
  /** Shut the VM down before a write that must land on a stopped VM (staged path). */
  | 'shutdown'
  /** Ask the guest agent whether the guest sees the temporary disk (by serial). */
  | 'verify-guest-disk';

export interface PlanStep {
  /** 1-based. */
  n: number;
  kind: StepKind;
  description: string;
  /** For `write`: keys to set, values as they will be written. */
  set?: Record<string, string>;
  /** For `write`: keys to delete. */
  delete?: string[];
  /** For `verify-guest-disk`: the disk key and serial to look for. */
  disk?: string;
  serial?: string;
  /** For `write`: deleted disks' volumes are destroyed (`force=1`) instead of becoming unusedN. */
  force?: boolean;
  /** For `write`: keys whose value allocates a new volume (`STORAGE:1`); PVE writes the real volume id. */
  allocates?: string[];
}

export interface VmPlan {
  vmid: number;
  node: string | null;
  name: string | null;
  /** Power state when planned. */
  status: string;
  ostype: string | null;
  /** Digest of the config read when planning. */
  digest: string;
  risk: RiskLevel | null;
  ha: HaInfo | null;
  blocked: Gate[];
  warnings: Gate[];
  steps: PlanStep[];
  changes: KeyChange[];
  /** A cold start (API reboot, or stop + start) is needed before the new settings run. */
  coldStartNeeded: boolean;
  /** Path taken: `direct` (one write), `staged` (Windows driver staging), `none` (nothing to do). */
  path: 'direct' | 'staged' | 'none';
  /** True when the VM is not blocked and has something to do (a write or a pending cold start). */
  eligible: boolean;
}

export interface MigrationPlan {
  version: typeof PLAN_VERSION;
  aio: TargetAio;
  /** ISO-8601 time the plan was made. */
  createdAt: string;
  /** Planner options, so `apply` re-plans a VM exactly as the saved plan did. */
  options: Omit<PlanOptions, 'authUser'>;
  /** `--pve` URL the plan was made against, when known. */
  pve?: string | null;
  vms: VmPlan[];
  /** VMs left out by `--min-risk`, with their level. */
  filtered?: { vmid: number; risk: RiskLevel }[];
}
