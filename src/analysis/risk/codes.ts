// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The stable reason codes. Each is documented in docs/risk-model.md (why, source, rule, fix);
 * a code never changes meaning once released.
 */
import type { RiskLevel } from '../types.js';

export const RISK_CODES = [
  'AIO_NATIVE_NO_DIRECT',
  'START_ERROR',
  'QMP_TIMEOUTS',
  'MAIN_LOOP_IO',
  'MAIN_LOOP_IO_LOAD',
  'IOTHREAD_IGNORED',
  'PENDING_DATAPLANE',
  'THROTTLE_IOTHREAD',
  'VCPU_OVERCOMMIT',
  'MANY_DISKS_ONE_CONTROLLER',
  'AIO_NATIVE_IOTHREAD',
  'BACKUP_NO_FLEECING',
  'RAM_SNAPSHOT_NETWORK_STORAGE',
  'PVE_QEMU_TMF_DEADLOCK',
  'PVE_QEMU_IO_URING_HANG',
  'WINDOWS_VBS_INTEL',
  'IO_PRESSURE_MISREAD',
  'NOT_CHECKED',
] as const;

export type RiskCode = (typeof RISK_CODES)[number];

/** Severity order used for the VM level: critical > warning > unknown > info > ok. */
export const SEVERITY_RANK: Record<RiskLevel, number> = {
  critical: 4,
  warning: 3,
  unknown: 2,
  info: 1,
  ok: 0,
};

/** The worse of two levels. */
export function worse(a: RiskLevel, b: RiskLevel): RiskLevel {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

/** The milder of two levels (used to cap template reasons at `info`). */
export function milder(a: RiskLevel, b: RiskLevel): RiskLevel {
  return SEVERITY_RANK[a] <= SEVERITY_RANK[b] ? a : b;
}
