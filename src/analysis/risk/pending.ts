// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * PENDING_DATAPLANE: controller / iothread / aio / cache changes that sit in `[PENDING]`.
 *
 * Source: qemu-server keeps aio, iothread, cache and scsihw changes of a running VM pending
 * (vmconfig_hotplug_pending, docs/how-qemu-server-decides.md#api); only a new QEMU process applies them: a start from PVE,
 * or the API reboot, which shuts down and starts again. A reboot inside the guest resets the same
 * QEMU process and applies nothing (docs/how-qemu-server-decides.md#pending).
 */
import { unknownReason } from '../disk-status.js';
import type { DiskFacts, DiskReport, RiskEvidence, RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { carriesData, evidence, reason, valueOf } from './context.js';

function describe(f: DiskFacts): string {
  const aio = unknownReason(f, 'aio') !== null ? 'unknown' : (f.aio.effective ?? 'none');
  const cache = unknownReason(f, 'cacheDirect') !== null ? 'unknown' : f.cacheDirect === null ? 'n/a' : f.cacheDirect ? 'direct' : 'not direct';
  return `controller ${f.controller ?? 'virtio-blk'}, iothread ${f.iothread.effective ? 'on' : 'off'}, aio ${aio}, cache ${cache}`;
}

function changedDisks(disks: DiskReport[]): DiskReport[] {
  return disks.filter((d) => d.pending !== undefined);
}

/** Disks whose IO runs in the main loop now but gets an IO thread (or goes away) at the next start. */
function stagedFixes(disks: DiskReport[]): string[] {
  return disks
    .filter((d) => !d.onlyPending && carriesData(d, d) && !d.iothread.effective && d.pending !== undefined)
    .filter((d) => 'deleted' in d.pending! || d.pending!.iothread.effective)
    .map((d) => d.key);
}

export function pendingReasons(ctx: RiskContext): RiskReason[] {
  const { vm } = ctx;
  const disks = changedDisks(vm.disks);
  const scsihwPending = vm.scsihw.pending;
  // Pending keys that change no disk fact (e.g. a machine pin that keeps -blockdev) are no dataplane risk.
  if (disks.length === 0 && !scsihwPending) return [];

  const ev: RiskEvidence[] = [];
  if (scsihwPending) {
    ev.push(evidence('config', 'scsihw', `${vm.scsihw.configured ?? 'unset (lsi)'} → ${scsihwPending.configured ?? 'unset (lsi)'} (pending)`));
  }
  for (const d of disks) {
    const p = d.pending!;
    const now = d.onlyPending ? 'not present' : describe(d);
    const next = 'deleted' in p ? 'removed' : describe(p);
    ev.push(evidence('effective', d.key, `now: ${now}; after cold start: ${next}`));
  }
  const changed = [...(scsihwPending ? ['scsihw'] : []), ...disks.map((d) => d.key)].join(', ');

  if (ctx.state === 'stopped') {
    return [
      reason({
        code: 'PENDING_DATAPLANE',
        severity: 'info',
        message: `Pending changes to ${changed} take effect at the VM's next start.`,
        evidence: ev,
        fix: 'Nothing to do: starting the VM from PVE applies them.',
        steps: [{ action: 'start-applies' }],
      }),
    ];
  }

  const staged = stagedFixes(vm.disks);
  const ha = valueOf(ctx.evidence.ha);
  const haNote = ha?.managed
    ? ' The VM is HA-managed: a reboot from PVE restarts it through HA; to stop and start it, change its HA state.'
    : '';
  const lead = ctx.state === 'running' ? 'The running VM still uses its old settings' : 'If the VM is running, it still uses its old settings';
  return [
    reason({
      code: 'PENDING_DATAPLANE',
      severity: staged.length > 0 ? 'warning' : 'info',
      message: `Changes to ${changed} are pending: ${lead.charAt(0).toLowerCase()}${lead.slice(1)} until a cold start or a reboot from PVE, and a reboot inside the guest does not apply them.`,
      evidence: [
        ...ev,
        ...(staged.length > 0 ? [evidence('effective', 'IO thread staged but not active', staged.join(', '))] : []),
        ...(ha ? [evidence('effective', 'HA', ha.managed ? `managed (${ha.state ?? 'state unknown'})` : 'not managed')] : []),
      ],
      fix: `Reboot the VM from PVE (Reboot button, qm reboot, or POST /status/reboot), or shut it down and start it from PVE.${haNote}`,
      steps: [{ action: 'cold-start', ...(ha?.managed ? { ha: true } : {}) }],
    }),
  ];
}
