// SPDX-License-Identifier: AGPL-3.0-or-later
/** IOTHREAD_IGNORED: the iothread flag PVE accepts but does not act on. */
import { unknownReason } from '../disk-status.js';
import type { DiskFacts, RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { APPLY_HINT, COLD_START, controllerKind, controllerLabel, driverCaveat, driverStep, evidence, reason } from './context.js';

/** Given to QEMU (a device that is only unknown is still attached). */
function attached(f: DiskFacts): boolean {
  return f.qemuDevice !== null || unknownReason(f, 'qemuDevice') !== null;
}

/**
 * IOTHREAD_IGNORED: `iothread=1` on a SCSI disk whose controller is not virtio-scsi-single. PVE
 * accepts it in the API and the GUI and only logs `WARN: iothread is only valid with virtio disk or
 * virtio-scsi-single controller, ignoring` in the start task (docs/how-qemu-server-decides.md#iothreads, fix #3890).
 */
export function iothreadIgnoredReasons(ctx: RiskContext): RiskReason[] {
  return ctx.disks
    // A drive line PVE drops is not given to QEMU at all: no controller ignores anything there.
    .filter((d) => d.facts.iothread.configured && !d.facts.iothread.effective && attached(d.facts))
    .map((d) => {
      const scsihw = d.fromPending && ctx.vm.scsihw.pending ? ctx.vm.scsihw.pending.configured : ctx.vm.scsihw.configured;
      const caveat = controllerKind(d.facts.controller) === 'virtio' ? '' : driverCaveat(ctx.vm);
      return reason({
        code: 'IOTHREAD_IGNORED',
        severity: 'warning',
        disk: d.disk.key,
        message: `${d.disk.key} has iothread=1, but PVE ignores it because the SCSI controller is ${scsihw ?? 'lsi (the default)'}; only the VM start task logs a warning about it.`,
        evidence: [
          evidence('config', 'scsihw', scsihw ?? 'unset (lsi)'),
          evidence('config', `${d.disk.key}.iothread`, 1),
          evidence('effective', `${d.disk.key}.iothread`, false),
          evidence('effective', `${d.disk.key}.controller`, controllerLabel(d.facts)),
          evidence('log', 'start task', 'WARN: iothread is only valid with virtio disk or virtio-scsi-single controller, ignoring'),
        ],
        fix: `Set the SCSI controller to VirtIO SCSI single (scsihw: virtio-scsi-single), ${APPLY_HINT}.${caveat}`,
        steps: [{ action: 'set-scsihw', value: 'virtio-scsi-single' }, COLD_START, ...(caveat ? [driverStep(ctx.vm)] : [])],
      });
    });
}
