// SPDX-License-Identifier: AGPL-3.0-or-later
/** `/nodes/{node}/tasks`: task list, status and log (docs/how-qemu-server-decides.md#api). */
import { privilegesOn, type Principal } from '../acl.js';
import { paramError, permissionError } from '../errors.js';
import type { SimState } from '../state.js';
import { parseUpid } from '../../../src/pve/upid.js';
import { taskListView, taskStatusView, type SimTask } from '../tasks.js';
import { Envelope, requireNode, type RouteDef } from './route.js';

/** The task of a UPID on this node, or PVE's 400 answers. */
function findTask(state: SimState, node: string, upid: string): SimTask {
  requireNode(state, node);
  if (!parseUpid(upid)) throw paramError({ upid: 'unable to parse worker upid' });
  const task = state.tasks.get(upid);
  // A task of another node is not in this node's task directory.
  if (!task || task.node !== node) throw paramError({ upid: 'no such task' });
  return task;
}

/** Owners see their tasks; others need Sys.Audit on the node. */
function checkTaskAccess(p: Principal, task: SimTask): void {
  if (task.user === p.id || task.user === p.user.userid) return;
  if (!privilegesOn(p, `/nodes/${task.node}`).has('Sys.Audit')) throw permissionError(`/nodes/${task.node}`, ['Sys.Audit']);
}

/** Tasks per node in the cluster task list (pve-cluster keeps a bounded list per node). */
const CLUSTER_TASKS_PER_NODE = 50;

export const taskRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/cluster/tasks',
    handler: ({ state, principal }) => {
      // Cluster.pm tasks: everything with Sys.Audit on /, else only the caller's own tasks. A
      // token's task is listed under its user with `tokenid` beside it, so a token without
      // Sys.Audit does not see its own tasks there (as in PVE).
      const all = privilegesOn(principal, '/').has('Sys.Audit');
      const out: unknown[] = [];
      for (const t of state.tasks.recent(CLUSTER_TASKS_PER_NODE)) {
        const view = taskListView(t);
        const bang = t.user.indexOf('!');
        if (bang > 0) Object.assign(view, { user: t.user.slice(0, bang), tokenid: t.user.slice(bang + 1) });
        if (all || view.user === principal.id) out.push(view);
      }
      return out;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/tasks',
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      const audit = privilegesOn(principal, `/nodes/${node}`).has('Sys.Audit');
      const source = params.source ?? 'archive';
      let tasks = state.tasks.list(node).filter((t) => audit || t.user === principal.id || t.user === principal.user.userid);
      if (source === 'archive') tasks = tasks.filter((t) => t.status === 'stopped');
      else if (source === 'active') tasks = tasks.filter((t) => t.status === 'running');
      if (params.vmid) tasks = tasks.filter((t) => t.id === params.vmid);
      if (params.typefilter) tasks = tasks.filter((t) => t.type === params.typefilter);
      if (params.userfilter) tasks = tasks.filter((t) => t.user.includes(params.userfilter!));
      if (params.errors === '1') tasks = tasks.filter((t) => t.status === 'stopped' && t.exitstatus !== 'OK' && !/^WARNINGS: \d+$/.test(t.exitstatus ?? ''));
      const start = Number(params.start ?? 0);
      const limit = Number(params.limit ?? 50);
      return new Envelope(tasks.slice(start, start + limit).map(taskListView), { total: tasks.length });
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/tasks/{upid}/status',
    handler: ({ state, principal, params }) => {
      const task = findTask(state, params.node!, params.upid!);
      checkTaskAccess(principal, task);
      return taskStatusView(task);
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/tasks/{upid}/log',
    handler: ({ state, principal, params }) => {
      const task = findTask(state, params.node!, params.upid!);
      checkTaskAccess(principal, task);
      const start = Number(params.start ?? 0);
      const limit = Number(params.limit ?? 50);
      const page = task.log.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
      return new Envelope(page, { total: task.log.length });
    },
  },
];
