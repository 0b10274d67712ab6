// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Export of exactly the VMs the table shows, in its order: the writers of the CLI's `--format csv`
 * and `--format json` (src/present), so a spreadsheet built from the panel and one from
 * `pve-dataplane audit` have the same columns.
 */
import type { AuditReport, VmReport } from '../../src/analysis/types.js';
import { formatCsv } from '../../src/present/csv.js';
import { formatJson } from '../../src/present/json.js';

export type ExportFormat = 'csv' | 'json';

/** The file's text and name (`pve-dataplane-audit-2026-12-08T10-00-00.csv`). */
export function exportShown(vms: readonly VmReport[], audit: Pick<AuditReport, 'assumptions'>, format: ExportFormat, now = new Date()): {
  text: string;
  filename: string;
  type: string;
} {
  const report: AuditReport = { vms: [...vms], assumptions: audit.assumptions, errors: [] };
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  return format === 'csv'
    ? { text: formatCsv(report), filename: `pve-dataplane-audit-${stamp}.csv`, type: 'text/csv' }
    : { text: formatJson(report), filename: `pve-dataplane-audit-${stamp}.json`, type: 'application/json' };
}

/** Offers `text` as a download (an object URL on a temporary link; revoked after the click). */
export function download(file: { text: string; filename: string; type: string }): void {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.filename;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
