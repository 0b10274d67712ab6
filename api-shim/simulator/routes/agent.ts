// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/nodes/{node}/qemu/{vmid}/agent/...` (qemu-server API2/Qemu/Agent.pm): the read-only QGA
 * commands (`{result: ...}`), `exec` (`{pid}`) and `exec-status`. Privileges from the PVE 9.1
 * schema (VM.GuestAgent.Audit / .Unrestricted / .FileSystemMgmt); PVE 8 checks VM.Monitor for all.
 */
import { requireAnyPriv, requirePrivs } from '../config-update.js';
import { PveError } from '../errors.js';
import { agentCommand, guestExec, guestExecStatus } from '../guest-agent.js';
import type { SimVm } from '../state.js';
import { requireNode, type RouteContext, type RouteDef } from './route.js';

const AUDIT = ['VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted'];
const UNRESTRICTED = ['VM.GuestAgent.Unrestricted'];
const FS_STATUS = ['VM.GuestAgent.Audit', 'VM.GuestAgent.FileSystemMgmt', 'VM.GuestAgent.Unrestricted'];

/** Read-only commands: path, method, PVE 9.1 privileges (any of). */
const COMMANDS: ReadonlyArray<{ name: string; method: 'GET' | 'POST'; privs: string[] }> = [
  { name: 'ping', method: 'POST', privs: AUDIT },
  { name: 'info', method: 'GET', privs: AUDIT },
  { name: 'get-osinfo', method: 'GET', privs: AUDIT },
  { name: 'get-host-name', method: 'GET', privs: AUDIT },
  { name: 'get-time', method: 'GET', privs: AUDIT },
  { name: 'get-timezone', method: 'GET', privs: AUDIT },
  { name: 'get-vcpus', method: 'GET', privs: AUDIT },
  { name: 'get-fsinfo', method: 'GET', privs: AUDIT },
  { name: 'network-get-interfaces', method: 'GET', privs: AUDIT },
  { name: 'fsfreeze-status', method: 'POST', privs: FS_STATUS },
];

/** The privilege check of the schema (before the handler), then the VM. */
function agentVm(ctx: RouteContext, privs: string[], any: boolean): SimVm {
  const node = requireNode(ctx.state, ctx.params.node!);
  const vmid = Number(ctx.params.vmid);
  const path = `/vms/${vmid}`;
  if (ctx.state.pveVersion === '8.2') requirePrivs(ctx.principal, path, ['VM.Monitor']);
  else if (any) requireAnyPriv(ctx.principal, path, privs);
  else requirePrivs(ctx.principal, path, privs);
  return ctx.state.requireVm(node, vmid);
}

export const agentRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/agent',
    handler: ({ state, params }) => {
      requireNode(state, params.node!);
      const names = [...COMMANDS.map((c) => c.name), 'exec', 'exec-status', 'file-read', 'file-write', 'fsfreeze-freeze', 'fsfreeze-thaw', 'fstrim',
        'get-memory-block-info', 'get-memory-blocks', 'get-users', 'set-user-password', 'shutdown', 'suspend-disk', 'suspend-hybrid', 'suspend-ram'];
      return names.sort().map((name) => ({ name }));
    },
  },
  {
    method: 'POST',
    path: '/nodes/{node}/qemu/{vmid}/agent',
    handler: async (ctx) => {
      const command = ctx.params.command!;
      const known = COMMANDS.find((c) => c.name === command);
      // The schema allows guest-changing commands too (freeze, shutdown, suspend); the simulator runs only the read-only ones.
      if (!known) throw new PveError(501, `Method 'POST ${ctx.path}' with command '${command}' is not implemented by the simulator\n`);
      const vm = agentVm(ctx, known.privs, true);
      return { result: await agentCommand(ctx.state, vm, command) };
    },
  },
  ...COMMANDS.map(
    (c): RouteDef => ({
      method: c.method,
      path: `/nodes/{node}/qemu/{vmid}/agent/${c.name}`,
      handler: async (ctx) => ({ result: await agentCommand(ctx.state, agentVm(ctx, c.privs, true), c.name) }),
    }),
  ),
  {
    method: 'POST',
    path: '/nodes/{node}/qemu/{vmid}/agent/exec',
    handler: async (ctx) => {
      const vm = agentVm(ctx, UNRESTRICTED, false);
      // An `array` parameter arrives NUL-joined (repeated form keys, see server.ts decodeForm).
      const argv = ctx.params.command === undefined || ctx.params.command === '' ? [] : ctx.params.command.split('\0');
      return guestExec(ctx.state, vm, argv, ctx.params['input-data']);
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/agent/exec-status',
    handler: async (ctx) => guestExecStatus(ctx.state, agentVm(ctx, UNRESTRICTED, false), Number(ctx.params.pid)),
  },
];
