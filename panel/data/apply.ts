// SPDX-License-Identifier: AGPL-3.0-or-later
/** The panel's Apply: `POST /dp/apply` on the shim, which plans, applies and journals itself. */
import type { RunSummary } from '../../src/migration/runner.js';

/** The shim's answer (api-shim/plugins/apply.ts). */
export interface ShimApplyAnswer {
  summary: RunSummary;
  planFile: string;
  journal: string;
  /** `pve-dataplane rollback ... --journal <file> --yes`. */
  rollback: string;
  errors: string[];
}

/** Applies as `applyThroughShim` does; replaceable in tests. */
export type Applier = (vmids: readonly number[], signal?: AbortSignal) => Promise<ShimApplyAnswer>;

/**
 * Asks the shim to apply the migration to `vmids` (reboot never: changes stay pending on running VMs).
 * @throws Error with the shim's message (`message (status)`) when it refuses or fails
 */
export async function applyThroughShim(vmids: readonly number[], csrfToken: string, signal?: AbortSignal): Promise<ShimApplyAnswer> {
  const res = await fetch('/dp/apply', {
    method: 'POST',
    headers: { 'content-type': 'application/json', CSRFPreventionToken: csrfToken },
    body: JSON.stringify({ vmids, aio: 'threads' }),
    credentials: 'same-origin',
    ...(signal ? { signal } : {}),
  });
  const body = (await res.json().catch(() => null)) as (ShimApplyAnswer & { message?: string }) | null;
  if (!res.ok || !body) throw new Error(`${body?.message ?? res.statusText} (${res.status})`);
  return body;
}

/** "2 pending reboot, 1 skipped" from a run's counts. */
export function describeCounts(summary: RunSummary): string {
  const parts = Object.entries(summary.counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([outcome, n]) => `${n} ${outcome.replace(/-/g, ' ')}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing done';
}
