// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Disk IO handled by QEMU's main loop (no effective IO thread), weighted by controller, raised by
 * measured IO load, and crowded onto one emulated controller.
 *
 * Source of the mechanism: QEMU dataplane design (blog.vmsplice.net 2013; Hajnoczi, quoted in the
 * Proxmox forum thread 84212 "CPU soft lockup: Watchdog: Bug: soft lockup"): without an IO thread, ioeventfd handling and completions run in the
 * main loop holding the global mutex, which vCPUs also need; PVE docs (qm.adoc): an IO thread keeps
 * "neither the main thread nor a vCPU thread" blocked by disk IO.
 */
import type { FixStep, RiskReason } from '../types.js';
import type { DiskInForce, RiskContext } from './context.js';
import { APPLY_HINT, COLD_START, carriesData, controllerKind, controllerLabel, evidence, driverCaveat, driverStep, isWindows, mibPerSec, notChecked, reason, textOnce, valueOf } from './context.js';
import { isUnavailable, unavailable } from './types.js';

/** Mean disk rate (read + write, whole VM) from which main-loop IO counts as heavy, bytes/s. */
export const HEAVY_IO_AVG_BYTES = 20 * 1048576;
/** Peak disk rate from which main-loop IO counts as heavy, bytes/s. */
export const HEAVY_IO_PEAK_BYTES = 100 * 1048576;
/** Data disks on one emulated controller from which MANY_DISKS_ONE_CONTROLLER fires. */
export const MANY_DISKS = 3;

/** Data disks whose IO runs in the main loop (made once per context: several rules ask). */
export function mainLoopDisks(ctx: RiskContext): DiskInForce[] {
  return (ctx.mainLoop ??= ctx.disks.filter((d) => carriesData(d.disk, d.facts) && !d.facts.iothread.effective));
}

function onVirtioScsiSingle(d: DiskInForce): boolean {
  return d.facts.controllerId?.startsWith('virtioscsi') ?? false;
}

/** mainLoopFix as data. */
export function mainLoopSteps(ctx: RiskContext, d: DiskInForce): FixStep[] {
  const disks = [d.disk.key];
  if (d.disk.bus === 'virtio' || (d.disk.bus === 'scsi' && onVirtioScsiSingle(d))) return [{ action: 'set-iothread', disks }, COLD_START];
  if (d.disk.bus === 'scsi') {
    const driver = controllerKind(d.facts.controller) === 'virtio' ? [] : [driverStep(ctx.vm)];
    return [{ action: 'set-scsihw', value: 'virtio-scsi-single' }, { action: 'set-iothread', disks }, COLD_START, ...driver];
  }
  return [{ action: 'move-to-scsi', disks }, { action: 'set-scsihw', value: 'virtio-scsi-single' }, { action: 'set-iothread', disks }, COLD_START, driverStep(ctx.vm)];
}

/** mainLoopFix's texts by their inputs. */
const FIXES = new Map<string, string>();

/** The fix for one main-loop disk, by bus and controller. */
export function mainLoopFix(ctx: RiskContext, d: DiskInForce): string {
  const single = onVirtioScsiSingle(d);
  const virtio = controllerKind(d.facts.controller) === 'virtio';
  const windows = isWindows(ctx.vm);
  return textOnce(FIXES, `${d.disk.key}\u0000${d.disk.bus}\u0000${single ? 1 : 0}${virtio ? 1 : 0}${windows ? 1 : 0}`, () => mainLoopFixText(ctx, d));
}

function mainLoopFixText(ctx: RiskContext, d: DiskInForce): string {
  const key = d.disk.key;
  if (d.disk.bus === 'virtio') return `Set iothread=1 on ${key}, ${APPLY_HINT}.`;
  if (d.disk.bus === 'scsi') {
    if (onVirtioScsiSingle(d)) return `Set iothread=1 on ${key}, ${APPLY_HINT}.`;
    const caveat = controllerKind(d.facts.controller) === 'virtio' ? '' : driverCaveat(ctx.vm);
    return `Set the SCSI controller to VirtIO SCSI single (scsihw: virtio-scsi-single) and iothread=1 on ${key}, ${APPLY_HINT}.${caveat}`;
  }
  return `Move ${key} to a SCSI disk on VirtIO SCSI single with iothread=1 (IDE and SATA cannot use an IO thread), ${APPLY_HINT}.${driverCaveat(ctx.vm)}`;
}

/** The steps of several disks as one list: each action once, its disks merged, in first-seen order. */
export function mergeSteps(lists: FixStep[][]): FixStep[] {
  const out: FixStep[] = [];
  for (const step of lists.flat()) {
    const same = out.find((s) => s.action === step.action);
    if (!same) out.push(structuredClone(step));
    else if ('disks' in same && 'disks' in step) for (const d of step.disks) if (!same.disks.includes(d)) same.disks.push(d);
  }
  return out;
}

/** MAIN_LOOP_IO messages by their inputs. */
const MAIN_LOOP_MESSAGES = new Map<string, string>();

/** MAIN_LOOP_IO: one reason per data disk without an effective IO thread. */
export function mainLoopIoReasons(ctx: RiskContext): RiskReason[] {
  return mainLoopDisks(ctx).map((d) => {
    const kind = controllerKind(d.facts.controller);
    const configured = d.facts.iothread.configured;
    const message = textOnce(MAIN_LOOP_MESSAGES, `${d.disk.key}\u0000${kind === 'virtio' ? 1 : 0}${configured ? 1 : 0}`, () => {
      const how =
        kind === 'virtio'
          ? 'its virtio requests are handled in QEMU\'s main loop under the global lock, which can delay the vCPUs under heavy IO'
          : 'every request to its emulated controller is processed by QEMU under the global lock, which can stall the vCPUs (guest soft lockups) under heavy IO';
      const configuredNote = configured ? ' (iothread=1 is set but not in effect)' : '';
      return `${d.disk.key} has no IO thread${configuredNote}: ${how}.`;
    });
    return reason({
      code: 'MAIN_LOOP_IO',
      severity: kind === 'virtio' ? 'info' : 'warning',
      disk: d.disk.key,
      message,
      evidence: [
        evidence('effective', `${d.disk.key}.controller`, controllerLabel(d.facts)),
        evidence('config', `${d.disk.key}.iothread`, d.facts.iothread.configured ? 1 : 'unset'),
        evidence('effective', `${d.disk.key}.iothread`, d.facts.iothread.effective),
        ...(d.fromPending ? [evidence('effective', 'applies', 'at the next start (pending values)')] : []),
      ],
      fix: mainLoopFix(ctx, d),
      steps: mainLoopSteps(ctx, d),
    });
  });
}

/** MAIN_LOOP_IO_LOAD: measured disk IO of a running VM that has main-loop disks. */
export function mainLoopLoadReasons(ctx: RiskContext): RiskReason[] {
  if (ctx.state === 'stopped') return [];
  const disks = mainLoopDisks(ctx);
  if (disks.length === 0) return [];
  const source = `/nodes/${ctx.vm.node ?? '{node}'}/qemu/${ctx.vm.vmid}/rrddata`;
  if (isUnavailable(ctx.evidence.io)) return [notChecked('the disk IO load (rrddata)', source, ctx.evidence.io)];
  const io = valueOf(ctx.evidence.io)!;
  if (io.samples === 0) {
    return [notChecked('the disk IO load (rrddata)', source, unavailable(`no disk samples in the last ${io.timeframe}`, 'no-data'))];
  }
  const heavy = io.avgBytesPerSec >= HEAVY_IO_AVG_BYTES || io.peakBytesPerSec >= HEAVY_IO_PEAK_BYTES;
  if (!heavy) return [];
  const keys = disks.map((d) => d.disk.key).join(', ');
  return [
    reason({
      code: 'MAIN_LOOP_IO_LOAD',
      severity: 'warning',
      message: `The VM moved ${mibPerSec(io.avgBytesPerSec)} on average (peak ${mibPerSec(io.peakBytesPerSec)}) over the last ${io.timeframe} while ${keys} run without an IO thread, so main-loop stalls are more likely.`,
      evidence: [
        evidence('metric', `diskread+diskwrite avg (${io.timeframe})`, mibPerSec(io.avgBytesPerSec)),
        evidence('metric', `diskread+diskwrite peak (${io.timeframe})`, mibPerSec(io.peakBytesPerSec)),
        evidence('metric', 'diskread avg', mibPerSec(io.avgReadBytesPerSec)),
        evidence('metric', 'diskwrite avg', mibPerSec(io.avgWriteBytesPerSec)),
        evidence('effective', 'main-loop disks', keys),
        evidence('metric', 'note', 'rrddata is per VM, not per disk'),
      ],
      fix: `Give ${keys} an IO thread (see MAIN_LOOP_IO for each disk); this VM's IO load makes it a first candidate.`,
      steps: mergeSteps(disks.map((d) => mainLoopSteps(ctx, d))),
    }),
  ];
}

/** MANY_DISKS_ONE_CONTROLLER: main-loop data disks crowded onto one emulated controller. */
export function manyDisksReasons(ctx: RiskContext): RiskReason[] {
  const disks = mainLoopDisks(ctx);
  // Fewer main-loop disks than the threshold (most VMs): no controller can have enough.
  if (disks.length < MANY_DISKS) return [];
  const byController = new Map<string, DiskInForce[]>();
  for (const d of disks) {
    if (controllerKind(d.facts.controller) !== 'emulated' || d.facts.controllerId === null) continue;
    const list = byController.get(d.facts.controllerId) ?? [];
    list.push(d);
    byController.set(d.facts.controllerId, list);
  }
  const out: RiskReason[] = [];
  for (const [id, list] of byController) {
    if (list.length < MANY_DISKS) continue;
    const keys = list.map((d) => d.disk.key).join(', ');
    out.push(
      reason({
        code: 'MANY_DISKS_ONE_CONTROLLER',
        severity: 'info',
        message: `${list.length} disks (${keys}) share the emulated controller ${id} (${list[0]!.facts.controller}), so all their IO goes through one emulated device in QEMU's main loop.`,
        evidence: [
          evidence('effective', 'controller', `${id} (${list[0]!.facts.controller})`),
          evidence('effective', 'disks', keys),
        ],
        fix: `Move the disks to VirtIO SCSI single with iothread=1, which gives each disk its own controller and IO thread, ${APPLY_HINT}.`,
        steps: [{ action: 'set-scsihw', value: 'virtio-scsi-single' }, { action: 'set-iothread', disks: list.map((d) => d.disk.key) }, COLD_START],
      }),
    );
  }
  return out;
}
