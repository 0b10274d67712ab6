// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Firewall views (Datacenter, Node, VM): the simulated cluster has no `.fw` files, so rules,
 * security groups, aliases and IP sets are empty lists, options are the empty section with its
 * digest, and the logs are empty (pve-firewall API2/Firewall/*.pm, Firewall.pm).
 */
import { digestOf } from '../../../src/pve/index.js';
import { requirePrivs } from '../config-update.js';
import { Envelope, requireNode, type RouteContext, type RouteDef } from './route.js';

/** A missing `.fw` file reads as empty: options are only its digest (copy_opject_with_digest). */
const EMPTY_OPTIONS = () => ({ digest: digestOf('') });
/** dump_logfile of an empty log: one `no content` line. */
const EMPTY_LOG = () => new Envelope([{ n: 1, t: 'no content' }], { total: 1 });

type Scope = { base: string; check: (ctx: RouteContext, log: boolean) => void };

const SCOPES: Scope[] = [
  { base: '/cluster/firewall', check: ({ principal }) => requirePrivs(principal, '/', ['Sys.Audit']) },
  {
    base: '/nodes/{node}/firewall',
    check: ({ state, principal, params }, log) => {
      const node = requireNode(state, params.node!);
      requirePrivs(principal, `/nodes/${node}`, [log ? 'Sys.Syslog' : 'Sys.Audit']);
    },
  },
  {
    base: '/nodes/{node}/qemu/{vmid}/firewall',
    check: ({ state, principal, params }, log) => {
      const node = requireNode(state, params.node!);
      requirePrivs(principal, `/vms/${params.vmid}`, [log ? 'VM.Console' : 'VM.Audit']);
      state.requireVm(node, Number(params.vmid));
    },
  },
];

const route = (path: string, check: (ctx: RouteContext) => void, answer: () => unknown): RouteDef => ({
  method: 'GET',
  path,
  handler: (ctx) => {
    check(ctx);
    return answer();
  },
});

export const firewallRoutes: RouteDef[] = [
  // Security groups are cluster-wide and listed to every user (user => 'all').
  route('/cluster/firewall/groups', () => undefined, () => []),
  ...SCOPES.flatMap(({ base, check }) => {
    const audit = (ctx: RouteContext) => check(ctx, false);
    const routes = [route(`${base}/rules`, audit, () => []), route(`${base}/options`, audit, EMPTY_OPTIONS)];
    if (base !== '/nodes/{node}/firewall') routes.push(route(`${base}/aliases`, audit, () => []), route(`${base}/ipset`, audit, () => []));
    if (base !== '/cluster/firewall') routes.push(route(`${base}/log`, (ctx) => check(ctx, true), EMPTY_LOG));
    return routes;
  }),
];
