// SPDX-License-Identifier: AGPL-3.0-or-later
/** `/access`: ticket login and the caller's computed permissions (docs/how-qemu-server-decides.md#api). */
import { aclPaths, privilegesOn, type Principal } from '../acl.js';
import { createCsrfToken, createTicket, login } from '../auth.js';
import { permissionError } from '../errors.js';
import type { SimState } from '../state.js';
import type { RouteDef } from './route.js';

/**
 * Privileges as the simulated release names them: PVE 9 replaced VM.Monitor with VM.GuestAgent.*
 * (and added VM.Replicate), so each version lists only its own.
 */
function releasePrivileges(state: SimState, p: Principal, path: string): Set<string> {
  const privs = privilegesOn(p, path);
  const gone = state.pveVersion === '8.2' ? (x: string) => x.startsWith('VM.GuestAgent.') || x === 'VM.Replicate' : (x: string) => x === 'VM.Monitor';
  return new Set([...privs].filter((x) => !gone(x)));
}

/**
 * The privileges each area of the `cap` object collects, as pve-access-control RPCEnvironment.pm
 * `compute_api_permission` matches them (a prefix match, so `Permissions.Modify` counts for most).
 * PVE's web UI reads every area unguarded (`caps.mapping['Mapping.Audit']` in dc/Config.js): a
 * missing one breaks the Datacenter view.
 */
const AREAS: Record<string, RegExp> = {
  vms: /^(VM\.|Permissions\.Modify)/,
  access: /^((User|Group)\.|Permissions\.Modify)/,
  storage: /^(Datastore\.|Permissions\.Modify)/,
  nodes: /^(Sys\.|Permissions\.Modify)/,
  sdn: /^(SDN\.|Permissions\.Modify)/,
  dc: /^(Sys\.Audit|Sys\.Modify|SDN\.)/,
  mapping: /^(Mapping\.|Permissions.Modify)/,
};

/**
 * The `cap` object of a ticket answer: for the paths PVE always checks and every path the ACL
 * names, each privilege held there goes to the area of the path's first segment (`/` is `dc`).
 */
function capabilities(state: SimState, p: Principal): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const area of Object.keys(AREAS)) out[area] = {};
  for (const path of aclPaths(p, ['/nodes', '/access/groups', '/vms', '/storage', '/sdn', '/mapping'])) {
    const area = /^\/(\w+)/.exec(path)?.[1] ?? 'dc';
    const match = AREAS[area];
    if (!match) continue;
    for (const priv of releasePrivileges(state, p, path)) if (match.test(priv)) out[area]![priv] = 1;
  }
  return out;
}

export const accessRoutes: RouteDef[] = [
  {
    method: 'POST',
    path: '/access/ticket',
    noAuth: true,
    handler: ({ state, params }) => {
      const now = state.clock.nowSec();
      const result = login(state.auth, params.username ?? '', params.password ?? '', params.realm, now, params['tfa-challenge']);
      const user = result.user;
      // A TOTP user's first factor: no cap, no CSRF token worth anything, a ticket only the
      // second factor accepts.
      if (result.needTfa) return { username: user.userid, ticket: result.tfaTicket, CSRFPreventionToken: createCsrfToken(state.auth, user.userid, now), NeedTFA: 1 };
      const principal: Principal = { id: user.userid, user, viaTicket: true };
      const out: Record<string, unknown> = {
        username: user.userid,
        ticket: createTicket(state.auth, user.userid, now),
        CSRFPreventionToken: createCsrfToken(state.auth, user.userid, now),
        cap: capabilities(state, principal),
      };
      if (privilegesOn(principal, '/').has('Sys.Audit')) out.clustername = state.clusterName;
      return out;
    },
  },
  {
    method: 'GET',
    path: '/access/permissions',
    handler: ({ state, principal, params }) => {
      let target = principal;
      if (params.userid && params.userid !== principal.id) {
        if (!privilegesOn(principal, '/access').has('Sys.Audit')) throw permissionError('/access', ['Sys.Audit']);
        const [userid, tokenName] = params.userid.split('!');
        const user = state.auth.users.find((u) => u.userid === userid);
        const token = tokenName ? state.auth.tokens.find((t) => t.tokenid === params.userid) : undefined;
        if (!user || (tokenName && !token)) return {};
        target = { id: params.userid, user, ...(token ? { token } : {}), viaTicket: false };
      }
      const paths = params.path ? [params.path] : aclPaths(target, ['/vms', '/storage', '/nodes', '/access', '/sdn']);
      const out: Record<string, Record<string, number>> = {};
      for (const path of paths) {
        const privs = releasePrivileges(state, target, path);
        if (privs.size === 0 && !params.path) continue;
        out[path] = Object.fromEntries([...privs].sort().map((x) => [x, 1]));
      }
      return out;
    },
  },
];
