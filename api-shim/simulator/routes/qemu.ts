// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/nodes/{node}/qemu/...`: VM list, create, config (GET, PUT sync, POST async), pending,
 * snapshots (list, sub-commands, section config), status and power, rrddata (docs/how-qemu-server-decides.md#api).
 */
import { configValues, deleteConfigKey, parseDriveKey, printVmConfig, setConfigValue } from '../../../src/pve/index.js';
import { privilegesOn } from '../acl.js';
import { driveParamError, prepareUpdate, requireAnyPriv, requirePrivs, runUpdate, updateLogLine } from '../config-update.js';
import { dieError, PveError } from '../errors.js';
import { statusCurrent, vmListEntry, vmRrd } from '../metrics.js';
import { requestReboot, requestShutdown, requestStart, requestStop } from '../power.js';
import { shuffled } from '../rng.js';
import type { SimState, SimVm } from '../state.js';
import type { SimTask } from '../tasks.js';
import { configView, pendingView, typedConfigValue } from '../vm-view.js';
import { requireNode, type RouteContext, type RouteDef } from './route.js';

const CONFIG_PRIVS = ['VM.Config.Disk', 'VM.Config.CDROM', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.HWType', 'VM.Config.Options', 'VM.Config.Cloudinit'];

/** Permission on /vms/{vmid} first (as PVE's schema check runs before the handler), then the VM. */
function vmFor(ctx: RouteContext, privs: string[], any = false): SimVm {
  const node = requireNode(ctx.state, ctx.params.node!);
  const vmid = Number(ctx.params.vmid);
  if (any) requireAnyPriv(ctx.principal, `/vms/${vmid}`, privs);
  else requirePrivs(ctx.principal, `/vms/${vmid}`, privs);
  return ctx.state.requireVm(node, vmid);
}

/** Drive parameters are checked with src/pve's drive formats (PVE wording). */
function driveCheck(name: string, value: string): string | null | undefined {
  return parseDriveKey(name) ? driveParamError(name, value) : undefined;
}

/** Turns a non-PVE error of a synchronous handler into PVE's 500. */
function asPveError(err: unknown): PveError {
  return err instanceof PveError ? err : dieError(err instanceof Error ? err.message : String(err));
}

/**
 * Waits up to `background_delay` simulated seconds for a task: null when it finished well
 * (OK or WARNINGS), PVE's 500 when it failed, else the UPID.
 */
async function upidOrDone(state: SimState, task: SimTask, delaySec: string | undefined, failText: string): Promise<string | null> {
  if (!delaySec) return task.upid;
  await Promise.race([task.done, state.clock.sleep(Number(delaySec) * 1000)]);
  if (task.status === 'running') return task.upid;
  if (task.exitstatus === 'OK' || /^WARNINGS: \d+$/.test(task.exitstatus ?? '')) return null;
  throw dieError(`${failText}: ${task.exitstatus}`);
}

export const qemuRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/nodes/{node}/qemu',
    // Built in one go: the audit analyses a node's running VMs only once this list is in, so a list
    // built in turns between the /pending answers (1.3-1.7 s at 5,000 VMs on 3 nodes, against ~50 ms
    // of /pending held up in one go) held the first rows of the panel back by as long.
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      const out: unknown[] = [];
      for (const vm of state.vms.values()) {
        if (vm.node !== node || !privilegesOn(principal, `/vms/${vm.vmid}`).has('VM.Audit')) continue;
        out.push(vmListEntry(state, vm, state.config(vm), params.full === '1'));
      }
      return out;
    },
  },
  {
    method: 'POST',
    path: '/nodes/{node}/qemu',
    paramCheck: driveCheck,
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      const vmid = Number(params.vmid);
      requirePrivs(principal, `/vms/${vmid}`, ['VM.Allocate']);
      const existing = state.vms.get(vmid);
      if (existing) throw dieError(`unable to create VM ${vmid} - VM ${vmid} already exists on node '${existing.node}'`);
      const r = state.rng.fork(`create:${vmid}`);
      const uuid = () => {
        const h = r.hex(32);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      };
      const base = `meta: creation-qemu=${state.qemuVersion},ctime=${state.clock.nowSec()}\nsmbios1: uuid=${uuid()}\nvmgenid: ${uuid()}\n`;
      const vm: SimVm = { vmid, node, text: base, status: 'stopped', guest: { ignoresAcpi: false, agentRunning: false, shutdownSec: 3 }, ioStress: false };
      state.vms.set(vmid, vm);
      const settings: Record<string, string> = {};
      for (const [k, v] of Object.entries(params)) if (!['node', 'vmid', 'start', 'pool', 'storage', 'unique', 'force', 'archive', 'bwlimit', 'live-restore'].includes(k)) settings[k] = v;
      let req;
      try {
        req = Object.keys(settings).length > 0 ? prepareUpdate(state, principal, vm, settings) : null;
      } catch (e) {
        state.vms.delete(vmid);
        throw e;
      }
      vm.text = printVmConfig(setConfigValue(state.config(vm), 'main', 'lock', 'create'));
      return state.tasks.start(node, 'qmcreate', String(vmid), principal.id, async (ctx) => {
        if (req) await runUpdate(state, vm, { ...req, skiplock: true }, ctx);
        state.writeConfig(vm, printVmConfig(deleteConfigKey(state.config(vm), 'main', 'lock')));
        if (params.start === '1') requestStart(state, vm, { user: principal.id, skiplock: false });
      }).upid;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/config',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.Audit']);
      return configView(ctx.state.config(vm), vm.vmid, {
        current: ctx.params.current === '1',
        ...(ctx.params.snapshot ? { snapshot: ctx.params.snapshot } : {}),
      });
    },
  },
  {
    method: 'PUT',
    path: '/nodes/{node}/qemu/{vmid}/config',
    paramCheck: driveCheck,
    handler: async (ctx) => {
      const vm = vmFor(ctx, CONFIG_PRIVS, true);
      const req = prepareUpdate(ctx.state, ctx.principal, vm, ctx.params);
      const warnings: string[] = [];
      try {
        await runUpdate(ctx.state, vm, req, { warn: (w) => warnings.push(w), log: () => undefined });
      } catch (e) {
        throw asPveError(e);
      }
      return null;
    },
  },
  {
    method: 'POST',
    path: '/nodes/{node}/qemu/{vmid}/config',
    paramCheck: driveCheck,
    handler: async (ctx) => {
      const { state, principal, params } = ctx;
      const vm = vmFor(ctx, CONFIG_PRIVS, true);
      const req = prepareUpdate(state, principal, vm, params);
      const task = state.tasks.start(vm.node, 'qmconfig', String(vm.vmid), principal.id, async (t) => {
        t.log(updateLogLine(vm.vmid, params));
        await runUpdate(state, vm, req, t);
      });
      return upidOrDone(state, task, params.background_delay, `failed to update VM ${vm.vmid}`);
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/pending',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.Audit']);
      const items = pendingView(ctx.state.config(vm));
      // Perl hash order: random, but the same for the same seed and request count.
      return ctx.state.shuffleKeys ? shuffled(ctx.state.rng.fork(`pending:${vm.vmid}:${vm.text.length}`), items) : items;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/snapshot',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.Audit']);
      const file = ctx.state.config(vm);
      const out: Array<Record<string, unknown>> = file.snapshots.map((s) => {
        const e: Record<string, unknown> = {
          name: s.name,
          description: s.description ?? '',
          vmstate: s.entries.has('vmstate') ? 1 : 0,
        };
        const t = s.entries.get('snaptime')?.value;
        if (t) e.snaptime = Number(t);
        const parent = s.entries.get('parent')?.value;
        if (parent) e.parent = parent;
        return e;
      });
      const current: Record<string, unknown> = { name: 'current', description: 'You are here!', running: vm.status === 'running' ? 1 : 0, digest: file.digest };
      const parent = file.main.entries.get('parent')?.value;
      if (parent) current.parent = parent;
      out.push(current);
      return out;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}',
    handler: ({ state, params }) => {
      // snapshot_cmd_idx: no permission check and no lookup, just the sub-commands.
      requireNode(state, params.node!);
      return [{ cmd: 'rollback' }, { cmd: 'config' }];
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.Snapshot', 'VM.Snapshot.Rollback', 'VM.Audit'], true);
      const snap = ctx.state.config(vm).snapshots.find((s) => s.name === ctx.params.snapname);
      if (!snap) throw dieError(`snapshot '${ctx.params.snapname}' does not exist`);
      // The section as parsed (no digest, drive strings as written), unlike config?snapshot=.
      const out: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(configValues(snap))) out[k] = typedConfigValue(k, v);
      return out;
    },
  },
  {
    method: 'PUT',
    path: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.Snapshot']);
      const file = ctx.state.config(vm);
      const name = ctx.params.snapname!;
      if (!file.snapshots.some((s) => s.name === name)) throw dieError(`snapshot '${name}' does not exist`);
      if (ctx.params.description !== undefined) {
        ctx.state.writeConfig(vm, printVmConfig(setConfigValue(file, name, 'description', ctx.params.description)));
      }
      return null;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/rrddata',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.Audit']);
      return vmRrd(ctx.state, vm, ctx.state.config(vm), ctx.params.timeframe ?? 'hour');
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/status/current',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.Audit']);
      return statusCurrent(ctx.state, vm, ctx.state.config(vm));
    },
  },
  {
    method: 'POST',
    path: '/nodes/{node}/qemu/{vmid}/status/start',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.PowerMgmt']);
      return requestStart(ctx.state, vm, power(ctx)).upid;
    },
  },
  {
    method: 'POST',
    path: '/nodes/{node}/qemu/{vmid}/status/stop',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.PowerMgmt']);
      return requestStop(ctx.state, vm, power(ctx)).upid;
    },
  },
  {
    method: 'POST',
    path: '/nodes/{node}/qemu/{vmid}/status/shutdown',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.PowerMgmt']);
      return requestShutdown(ctx.state, vm, {
        ...power(ctx),
        ...(ctx.params.timeout ? { timeoutSec: Number(ctx.params.timeout) } : {}),
        forceStop: ctx.params.forceStop === '1',
      }).upid;
    },
  },
  {
    method: 'POST',
    path: '/nodes/{node}/qemu/{vmid}/status/reboot',
    handler: (ctx) => {
      const vm = vmFor(ctx, ['VM.PowerMgmt']);
      return requestReboot(ctx.state, vm, { ...power(ctx), ...(ctx.params.timeout ? { timeoutSec: Number(ctx.params.timeout) } : {}) }).upid;
    },
  },
];

function power(ctx: RouteContext): { user: string; skiplock: boolean } {
  if (ctx.params.skiplock === '1' && !(ctx.principal.user.superuser && !ctx.principal.token)) throw dieError('Only root may use this option.');
  return { user: ctx.principal.id, skiplock: ctx.params.skiplock === '1' };
}
