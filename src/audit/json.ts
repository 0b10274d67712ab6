// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The documented JSON contract of the audit (`audit --format json`, docs/ and ARCHITECTURE: "pve-dataplane
 * audit JSON"). The one place where the wire shape differs from the in-memory report: a disk that
 * exists only after the pending changes has its current facts `null` (the report keeps typed
 * placeholders so presenters need no null checks). Only the report's own fields are written, never
 * what it was computed from (`AuditRun.inputs`, `env`).
 */
import type { AuditReport, DiskFacts, DiskReport, VmReport } from '../analysis/types.js';
import { notesOf } from '../present/deviations.js';

/** The facts with `notes`: the deviations in words (the contract's field), beside the deviations themselves. */
function withNotes<T extends DiskFacts>(f: T): T & { notes: string[] } {
  return { ...f, notes: notesOf(f) };
}

function diskJson(d: DiskReport): unknown {
  // Written into the one copy (a key that exists keeps its place, as a spread would keep it).
  const out = withNotes(d) as unknown as Record<string, unknown>;
  if (d.onlyPending) {
    out.qemuDevice = null;
    out.controller = null;
    out.controllerId = null;
    out.iothread = null;
    out.aio = null;
    out.cacheDirect = null;
    out.cache = null;
  }
  if (d.pending && !('deleted' in d.pending)) out.pending = withNotes(d.pending);
  return out;
}

/** One VM as the contract writes it. */
export function toVmJson(vm: VmReport): unknown {
  return { ...vm, disks: vm.disks.map(diskJson) };
}

/** The whole report as the contract writes it (a value for `JSON.stringify`). */
export function toAuditJson(report: AuditReport): unknown {
  return {
    vms: report.vms.map(toVmJson),
    assumptions: report.assumptions,
    errors: report.errors,
    ...(report.warnings ? { warnings: report.warnings } : {}),
  };
}
