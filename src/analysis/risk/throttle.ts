// SPDX-License-Identifier: AGPL-3.0-or-later
/** THROTTLE_IOTHREAD: IO limits on disks that have an IO thread. */
import type { RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { carriesData, evidence, notChecked, reason, valueOf } from './context.js';
import { isUnavailable } from './types.js';

/** The throttle keys PVE accepts (legacy bps* are converted to mbps*); burst lengths alone limit nothing. */
const THROTTLE_KEY = /^(mbps|iops|bps)(_rd|_wr)?(_max)?$/;

export function isThrottleKey(key: string): boolean {
  return THROTTLE_KEY.test(key);
}

/**
 * THROTTLE_IOTHREAD: throttle limits on a disk with an IO thread. QEMU issue #3144 reports
 * reproducible VM lock-ups under random writes with IO throttling on an iothread; a post-mortem
 * implicated live throttle rewrites.
 */
export function throttleIothreadReasons(ctx: RiskContext): RiskReason[] {
  const iothreadDisks = ctx.disks.filter((d) => carriesData(d.disk, d.facts) && d.facts.iothread.effective);
  if (iothreadDisks.length === 0) return [];
  if (isUnavailable(ctx.evidence.throttles)) {
    return [notChecked('throttle limits on IO-thread disks', 'VM config', ctx.evidence.throttles)];
  }
  const throttles = valueOf(ctx.evidence.throttles)!;
  const out: RiskReason[] = [];
  for (const d of iothreadDisks) {
    const limits = throttles[d.disk.key];
    if (!limits || Object.keys(limits).length === 0) continue;
    const written = Object.entries(limits).map(([k, v]) => `${k}=${v}`).join(',');
    out.push(
      reason({
        code: 'THROTTLE_IOTHREAD',
        severity: 'warning',
        disk: d.disk.key,
        message: `${d.disk.key} has IO limits (${written}) and an IO thread, a combination QEMU issue #3144 reports reproducible VM lock-ups with.`,
        evidence: [
          evidence('config', `${d.disk.key} limits`, written),
          evidence('effective', `${d.disk.key}.iothread`, true),
        ],
        fix: `Remove the IO limits from ${d.disk.key} if the storage can do without them, and avoid changing limits on a running VM; keep the IO thread.`,
        steps: [{ action: 'remove-io-limits', disks: [d.disk.key] }],
      }),
    );
  }
  return out;
}
