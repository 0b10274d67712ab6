// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the apply and rollback engines need from PVE, as one small interface: the API adapter
 * (api-target.ts) implements it over `PveClient`; unit tests implement it in memory.
 */
import type { VmInput, VmReport } from '../analysis/types.js';
import type { PowerAction } from './journal-model.js';
import type { PermissionMap } from './types.js';

/** One VM as read now: config (current + pending + digest) and power/HA state. */
export interface LiveVm {
  input: VmInput;
  /** `running` | `stopped` (PVE status/current). */
  status: string;
  /** QMP state of a running VM (`running`, `paused`, …), when known. */
  qmpstatus?: string;
  /** HA view of status/current; `managed` false when not HA-managed. */
  ha: { managed: boolean; state: string | null };
  lock: string | null;
}

/** One config write: keys to set, to delete, pending changes to revert. */
export interface WriteRequest {
  set: Record<string, string>;
  delete: string[];
  revert?: string[];
  /** Destroy the volumes of deleted disks instead of keeping them as unusedN. */
  force?: boolean;
}

/** `forbidden`: PVE refused agent/exec with 403 (the token lacks the guest-agent privilege). */
export type GuestDiskCheck = 'yes' | 'no' | 'unknown' | 'forbidden';

export interface MigrationTarget {
  /** Read one VM (config with pending values and digest, status, HA). */
  readVm(node: string, vmid: number, signal?: AbortSignal): Promise<LiveVm>;
  /** The audit of a VM as read (for re-planning). */
  analyze(vm: LiveVm): VmReport;
  /** The caller's privileges, or null when they cannot be read. */
  permissions(signal?: AbortSignal): Promise<PermissionMap | null>;
  /** HA resource of a VM (sid + requested state), or null. */
  haResource(vmid: number, signal?: AbortSignal): Promise<{ sid: string; state: string } | null>;
  /**
   * One digest-guarded config write; resolves when PVE's task finished OK.
   * @throws the api error classes (PveDigestMismatchError on a concurrent change, …)
   * @returns the task id, when there was one
   */
  writeConfig(node: string, vmid: number, req: WriteRequest, digest: string, signal?: AbortSignal): Promise<string | null>;
  /** Start a power action; returns the task id. `timeoutSec`: shutdown timeout PVE applies. */
  power(node: string, vmid: number, action: PowerAction, opts: { timeoutSec?: number }, signal?: AbortSignal): Promise<string>;
  /** Follow a task to its end; throws when it failed (the message holds PVE's exit status). */
  waitTask(upid: string, opts: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /**
   * The error of a start task of this VM that began at or after `sinceSec` (epoch seconds) and
   * failed, e.g. `start failed: QEMU exited with code 1`; null when none is known. A reboot's
   * restart is a separate task the caller never gets the id of (docs/how-qemu-server-decides.md#pending). Optional: a
   * target without it leaves the caller to wait for the VM state alone.
   */
  failedStartSince?(node: string, vmid: number, sinceSec: number, signal?: AbortSignal): Promise<string | null>;
  /** Ask the guest agent whether the guest sees a disk with this serial. */
  guestSeesDisk(node: string, vmid: number, serial: string, signal?: AbortSignal): Promise<GuestDiskCheck>;
  /** Wait (injectable so tests need not sleep). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
