// SPDX-License-Identifier: AGPL-3.0-or-later
/** `--format json`: the audit service's JSON contract (`toAuditJson`), indented. */
import type { AuditReport, VmReport } from '../../analysis/types.js';
import { toAuditJson, toVmJson } from '../../audit/json.js';

export function formatJson(report: AuditReport): string {
  return JSON.stringify(toAuditJson(report), null, 2) + '\n';
}

export function formatVmJson(vm: VmReport): string {
  return JSON.stringify(toVmJson(vm), null, 2) + '\n';
}
