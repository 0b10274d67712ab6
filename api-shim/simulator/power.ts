// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * VM power operations and what they do to pending changes (docs/how-qemu-server-decides.md#pending): start and stop apply
 * `[PENDING]`; `reboot` is a clean shutdown (qmreboot task) followed by a SEPARATE start task
 * that applies pending; a guest that ignores ACPI makes shutdown/reboot fail with
 * `VM quit/powerdown failed - got timeout`; HA-managed VMs go through hastart/hastop requests
 * and the HA stack then starts/stops them in its own task.
 */
import { performance } from 'node:perf_hooks';
import { agentEnabled, applyPendingWithWarnings, configValues, getPart, isTrue, isValidDriveName, parseDrive, printVmConfig } from '../../src/pve/index.js';
import { checkDigestAndLock } from './config-update.js';
import { dieError } from './errors.js';
import { runningMachine } from './machine.js';
import type { SimState, SimVm } from './state.js';
import type { SimTask, TaskContext } from './tasks.js';

/** Simulated durations, ms. */
const START_MS = 1200;
const STOP_MS = 400;
/** Delay before the HA stack acts on a request (CRM/LRM rounds of ~10 s). */
const HA_REACTION_MS = 10_000;

/** Storage types whose disks reach QEMU as a file or block device (aio matters, docs/how-qemu-server-decides.md#aio). */
const AIO_STORAGE_TYPES = new Set(['dir', 'nfs', 'cifs', 'btrfs', 'lvm', 'lvmthin', 'zfspool', 'cephfs', 'glusterfs']);

function applyPendingAtStart(state: SimState, vm: SimVm, ctx: TaskContext): void {
  const res = applyPendingWithWarnings(state.config(vm));
  if (res.file === state.config(vm)) return;
  for (const w of res.warnings) ctx.warn(w.message);
  state.writeConfig(vm, printVmConfig(res.file));
}

/** Start-time checks of the command line build that show in the task log or fail the start. */
function commandLineChecks(state: SimState, vm: SimVm, ctx: TaskContext): void {
  const values = configValues(state.config(vm).main);
  const single = values.scsihw === 'virtio-scsi-single';
  for (const key of Object.keys(values).filter(isValidDriveName).sort()) {
    const drive = parseDrive(key, values[key]!, { vmid: vm.vmid });
    const iothread = getPart(drive.options, 'iothread');
    if (key.startsWith('scsi') && !single && isTrue(iothread)) {
      ctx.warn('iothread is only valid with virtio disk or virtio-scsi-single controller, ignoring');
    }
    // QEMU's file-posix refuses aio=native without O_DIRECT (docs/how-qemu-server-decides.md#aio).
    const cache = getPart(drive.options, 'cache');
    const storageType = drive.storage ? state.storage.storages.get(drive.storage)?.type : undefined;
    // storage.cfg booleans are 1/0 only (pve-common SectionConfig `check_value` → JSONSchema `check_type`), unlike VM configs.
    const krbd = drive.storage ? state.storage.storages.get(drive.storage)?.props.krbd === '1' : false;
    const reachesFile = drive.file.startsWith('/') || (storageType !== undefined && (AIO_STORAGE_TYPES.has(storageType) || (storageType === 'rbd' && krbd)));
    if (!drive.isCdrom && reachesFile && getPart(drive.options, 'aio') === 'native' && cache !== undefined && /^(writeback|writethrough|unsafe)$/.test(cache)) {
      ctx.log(`kvm: -blockdev ${key}: aio=native was specified, but it requires cache.direct=on, which was not specified.`);
      throw new Error('start failed: QEMU exited with code 1');
    }
  }
}

/** The body of a `qmstart` task. */
export async function doStart(state: SimState, vm: SimVm, ctx: TaskContext, skiplock: boolean): Promise<void> {
  if (vm.status === 'running') throw new Error(`VM ${vm.vmid} already running`);
  const file = state.config(vm);
  if (isTrue(file.main.entries.get('template')?.value)) throw new Error("you can't start a vm if it's a template");
  checkDigestAndLock(state, file, undefined, skiplock);
  applyPendingAtStart(state, vm, ctx);
  commandLineChecks(state, vm, ctx);
  await state.clock.sleep(START_MS);
  vm.status = 'running';
  vm.startedAt = state.clock.nowSec();
  vm.pid = state.allocPid();
  vm.runningQemu = state.qemuVersion;
  vm.runningMachine = runningMachine(configValues(state.config(vm).main), state.qemuVersion);
  // The guest OS boots before its agent answers (scaled like every simulated duration).
  const bootSec = vm.guest.agentStartSec ?? 0;
  if (bootSec > 0) vm.agentUpAtMs = performance.now() + bootSec * 1000 * state.clock.scale;
}

/** Stop (hard) and the cleanup that applies pending changes. */
async function hardStop(state: SimState, vm: SimVm, ctx: TaskContext): Promise<void> {
  await state.clock.sleep(STOP_MS);
  state.markStopped(vm);
  applyPendingAtStart(state, vm, ctx);
}

/** The body of a `qmstop` task. */
export async function doStop(state: SimState, vm: SimVm, ctx: TaskContext, skiplock: boolean): Promise<void> {
  if (vm.status !== 'running') throw new Error(`VM ${vm.vmid} not running`);
  checkDigestAndLock(state, state.config(vm), undefined, skiplock);
  await hardStop(state, vm, ctx);
}

/**
 * A clean shutdown: the guest agent if `agent: 1` and it runs, else ACPI. A guest that ignores
 * ACPI never stops; after `timeoutSec` the shutdown fails (or is forced with `forceStop`).
 */
export async function doShutdown(
  state: SimState,
  vm: SimVm,
  ctx: TaskContext,
  opts: { timeoutSec: number; forceStop: boolean; skiplock: boolean },
): Promise<void> {
  if (vm.status !== 'running') throw new Error(`VM ${vm.vmid} not running`);
  checkDigestAndLock(state, state.config(vm), undefined, opts.skiplock);
  const agentConfigured = agentEnabled(state.config(vm).main.entries.get('agent')?.value);
  const viaAgent = agentConfigured && vm.guest.agentRunning;
  const obeys = viaAgent || !vm.guest.ignoresAcpi;
  if (obeys && vm.guest.shutdownSec <= opts.timeoutSec) {
    await state.clock.sleep(vm.guest.shutdownSec * 1000);
    if (vm.status !== 'running') return;
    state.markStopped(vm);
    applyPendingAtStart(state, vm, ctx);
    return;
  }
  await state.clock.sleep(opts.timeoutSec * 1000);
  if (vm.status !== 'running') return;
  if (!opts.forceStop) throw new Error('VM quit/powerdown failed - got timeout');
  ctx.log('VM quit/powerdown failed - terminating now with SIGTERM');
  await hardStop(state, vm, ctx);
}

/** The current user's view of a power request: a task, or an HA request task. */
export interface PowerRequest {
  user: string;
  skiplock: boolean;
}

/** `POST .../status/start`: qmstart, or hastart for HA-managed VMs. */
export function requestStart(state: SimState, vm: SimVm, req: PowerRequest): SimTask {
  if (vm.ha && !req.skiplock) {
    return state.tasks.start(vm.node, 'hastart', String(vm.vmid), req.user, async (ctx) => {
      ctx.log(`Requesting HA start for VM ${vm.vmid}`);
      vm.ha!.state = 'started';
      haReact(state, vm);
    });
  }
  if (vm.status === 'running') throw dieError(`VM ${vm.vmid} already running`);
  return state.tasks.start(vm.node, 'qmstart', String(vm.vmid), req.user, (ctx) => doStart(state, vm, ctx, req.skiplock));
}

/** `POST .../status/stop`: qmstop, or hastop for HA-managed VMs. */
export function requestStop(state: SimState, vm: SimVm, req: PowerRequest): SimTask {
  if (vm.ha && !req.skiplock) {
    return state.tasks.start(vm.node, 'hastop', String(vm.vmid), req.user, async (ctx) => {
      ctx.log(`Requesting HA stop for VM ${vm.vmid}`);
      vm.ha!.state = 'stopped';
      haReact(state, vm);
    });
  }
  if (vm.status !== 'running') throw dieError(`VM ${vm.vmid} not running`);
  return state.tasks.start(vm.node, 'qmstop', String(vm.vmid), req.user, (ctx) => doStop(state, vm, ctx, req.skiplock));
}

/** `POST .../status/shutdown`: qmshutdown (hastop for HA-managed VMs). Default timeout 180 s. */
export function requestShutdown(state: SimState, vm: SimVm, req: PowerRequest & { timeoutSec?: number; forceStop: boolean }): SimTask {
  if (vm.ha && !req.skiplock) return requestStop(state, vm, req);
  if (vm.status !== 'running') throw dieError(`VM ${vm.vmid} not running`);
  return state.tasks.start(vm.node, 'qmshutdown', String(vm.vmid), req.user, (ctx) =>
    doShutdown(state, vm, ctx, { timeoutSec: req.timeoutSec ?? 180, forceStop: req.forceStop, skiplock: req.skiplock }),
  );
}

/**
 * `POST .../status/reboot`: the qmreboot task ends when the guest is down; qmeventd's cleanup
 * then starts the VM in a new task (qmstart, or hastart for HA guests), which applies pending.
 * Default timeout 60 s (or the `startup: down=` value).
 */
export function requestReboot(state: SimState, vm: SimVm, req: PowerRequest & { timeoutSec?: number }): SimTask {
  if (vm.status !== 'running') throw dieError(`VM ${vm.vmid} not running`);
  const down = /down=(\d+)/.exec(state.config(vm).main.entries.get('startup')?.value ?? '')?.[1];
  const timeoutSec = req.timeoutSec ?? (down ? Number(down) : 60);
  return state.tasks.start(vm.node, 'qmreboot', String(vm.vmid), req.user, async (ctx) => {
    await doShutdown(state, vm, ctx, { timeoutSec, forceStop: false, skiplock: req.skiplock });
    // qmeventd -> `qm cleanup` sees the reboot request and starts the VM again, as root@pam.
    state.track(state.clock.sleep(0).then(() => {
      if (vm.ha) {
        state.tasks.start(vm.node, 'hastart', String(vm.vmid), 'root@pam', async (c) => {
          c.log(`Requesting HA start for VM ${vm.vmid}`);
          vm.ha!.state = 'started';
          haReact(state, vm);
        });
      } else {
        state.tasks.start(vm.node, 'qmstart', String(vm.vmid), 'root@pam', (c) => doStart(state, vm, c, true));
      }
    }));
  });
}

/** The HA stack acting on a requested state after a CRM/LRM round, in its own task. */
function haReact(state: SimState, vm: SimVm): void {
  state.track(state.clock.sleep(HA_REACTION_MS).then(() => {
    const want = vm.ha?.state;
    if (want === 'started' && vm.status !== 'running') {
      state.tasks.start(vm.node, 'qmstart', String(vm.vmid), 'root@pam', (ctx) => doStart(state, vm, ctx, false));
    } else if (want === 'stopped' && vm.status === 'running') {
      state.tasks.start(vm.node, 'qmshutdown', String(vm.vmid), 'root@pam', (ctx) =>
        doShutdown(state, vm, ctx, { timeoutSec: 180, forceStop: true, skiplock: false }),
      );
    }
  }));
}
