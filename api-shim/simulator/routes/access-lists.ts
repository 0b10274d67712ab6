// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Read-only `/access` lists the web UI shows under Datacenter > Permissions and in the login
 * window: realms, users (with tokens), API tokens, groups, roles, ACL, TFA. Filled from the
 * simulator's users, tokens and ACL entries (pve-access-control API2/User.pm, Group.pm, Role.pm,
 * ACL.pm, Domains.pm, TFA.pm).
 */
import { privilegesOn, type Principal, type SimUser } from '../acl.js';
import { dieError, permissionError } from '../errors.js';
import { RoleBook } from '../roles.js';
import type { SimState } from '../state.js';
import type { RouteDef } from './route.js';

/** The realms of a fresh installation (Domains.pm index lists `comment`, `realm`, `type`). */
const REALMS = [
  { realm: 'pam', type: 'pam', comment: 'Linux PAM standard authentication' },
  { realm: 'pve', type: 'pve', comment: 'Proxmox VE authentication server' },
];

const realmOf = (userid: string) => userid.slice(userid.lastIndexOf('@') + 1);

/** Roles for the current ACL (rebuilt per request: users and tokens can be added by tests). */
function roleBook(state: SimState): RoleBook {
  const entries = [...state.auth.users.flatMap((u) => u.acl), ...state.auth.tokens.flatMap((t) => t.acl)];
  return new RoleBook(state.pveVersion, entries);
}

/** User.pm index: users the caller may administer (User.Modify or Sys.Audit on /access/groups), and itself. */
function visibleUsers(state: SimState, p: Principal): SimUser[] {
  const privs = privilegesOn(p, '/access/groups');
  const all = privs.has('User.Modify') || privs.has('Sys.Audit');
  return state.auth.users.filter((u) => all || u.userid === p.user.userid);
}

function tokensOf(state: SimState, userid: string): Array<Record<string, unknown>> {
  return state.auth.tokens
    .filter((t) => t.tokenid.startsWith(`${userid}!`))
    .map((t) => ({ tokenid: t.tokenid.slice(userid.length + 1), privsep: t.privsep ? 1 : 0, expire: 0 }));
}

export const accessListRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/access/domains',
    // Anyone: the login window lists the realms before anybody has logged in.
    noAuth: true,
    handler: () => REALMS.map((r) => ({ ...r })),
  },
  {
    method: 'GET',
    path: '/access/users',
    handler: ({ state, principal, params }) =>
      visibleUsers(state, principal).map((u) => ({
        userid: u.userid,
        enable: 1,
        expire: 0,
        'realm-type': realmOf(u.userid),
        ...(u.superuser ? { firstname: '', lastname: '', email: '' } : {}),
        ...(params.full === '1' ? { tokens: tokensOf(state, u.userid), groups: '' } : {}),
      })),
  },
  {
    method: 'GET',
    path: '/access/users/{userid}/token',
    handler: ({ state, principal, params }) => {
      const userid = params.userid!;
      // ["or", ["userid-param", "self"], ["userid-group", ["User.Modify"]]]
      if (principal.user.userid !== userid && !privilegesOn(principal, '/access/groups').has('User.Modify')) {
        throw permissionError('/access/groups', ['User.Modify']);
      }
      if (!state.auth.users.some((u) => u.userid === userid)) throw dieError(`no such user ('${userid}')`);
      return tokensOf(state, userid);
    },
  },
  {
    method: 'GET',
    path: '/access/groups',
    // The simulator grants through user and token entries only: no groups.
    handler: () => [],
  },
  {
    method: 'GET',
    path: '/access/roles',
    handler: ({ state }) => roleBook(state).roles.map((r) => ({ roleid: r.roleid, privs: r.privs.join(','), special: r.special ? 1 : 0 })),
  },
  {
    method: 'GET',
    path: '/access/acl',
    handler: ({ state, principal }) => {
      const book = roleBook(state);
      const out: Array<Record<string, unknown>> = [];
      // ACL.pm read_acl: everything with Sys.Audit on /access, else the paths where the caller may modify permissions.
      const audit = privilegesOn(principal, '/access').has('Sys.Audit');
      const visible = (path: string) => audit || privilegesOn(principal, path).has('Permissions.Modify');
      for (const u of state.auth.users) {
        for (const e of u.acl) {
          if (visible(e.path)) out.push({ path: e.path, type: 'user', ugid: u.userid, roleid: book.roleOf(e, state.pveVersion), propagate: e.propagate ? 1 : 0 });
        }
      }
      for (const t of state.auth.tokens) {
        for (const e of t.acl) {
          if (visible(e.path)) out.push({ path: e.path, type: 'token', ugid: t.tokenid, roleid: book.roleOf(e, state.pveVersion), propagate: e.propagate ? 1 : 0 });
        }
      }
      return out;
    },
  },
  {
    method: 'GET',
    path: '/access/tfa',
    // No second factors are configured; TFA.pm lists only users that have entries.
    handler: () => [],
  },
];
