// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Users, API tokens and their privileges: a small ACL in PVE's terms (paths such as `/vms/100`,
 * privileges such as `VM.Audit`). As pve-access-control AccessControl.pm `roles` walks a path from
 * `/` down, the deepest level with entries that apply (on the path itself, or propagating from a
 * parent) replaces what the levels above gave: a specific entry narrows as well as widens. Kept
 * simpler than PVE: no groups or pools. A privilege-separated token gets the intersection of its
 * own and its user's privileges.
 */

/** Every privilege the simulator knows (PVE 9 role definitions, the ones relevant here). */
export const ALL_PRIVILEGES = [
  'Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate', 'Datastore.Audit',
  'Group.Allocate', 'Mapping.Audit', 'Mapping.Modify', 'Mapping.Use', 'Permissions.Modify', 'Pool.Allocate', 'Pool.Audit', 'SDN.Allocate', 'SDN.Audit', 'SDN.Use', 'Sys.Audit', 'Sys.Incoming',
  'User.Modify', 'Sys.Console', 'Sys.Modify', 'Sys.PowerMgmt', 'Sys.Syslog',
  'VM.Allocate', 'VM.Audit', 'VM.Backup', 'VM.Clone', 'VM.Config.CDROM', 'VM.Config.CPU',
  'VM.Config.Cloudinit', 'VM.Config.Disk', 'VM.Config.HWType', 'VM.Config.Memory',
  'VM.Config.Network', 'VM.Config.Options', 'VM.Console', 'VM.Migrate',
  // VM.Monitor is PVE 8's guest agent privilege; PVE 9 split it into VM.GuestAgent.*.
  'VM.Monitor', 'VM.GuestAgent.Audit', 'VM.GuestAgent.FileRead', 'VM.GuestAgent.FileWrite', 'VM.GuestAgent.FileSystemMgmt',
  'VM.GuestAgent.Unrestricted', 'VM.PowerMgmt', 'VM.Replicate', 'VM.Snapshot', 'VM.Snapshot.Rollback',
] as const;

export interface AclEntry {
  /** `/`, `/vms`, `/vms/100`, `/storage/local`, `/nodes/pve1`... */
  path: string;
  privs: string[];
  /** Applies to sub-paths too (PVE's default for ACL entries). */
  propagate: boolean;
}

export interface SimUser {
  /** `root@pam`, `audit@pve`... */
  userid: string;
  /** Password for `POST /access/ticket`; absent = no ticket login. */
  password?: string;
  acl: AclEntry[];
  /** root@pam: every check passes (tokens of root@pam are NOT root, docs/how-qemu-server-decides.md#api). */
  superuser?: boolean;
  /** TOTP secret (raw bytes as hex): the password login then needs a second factor. */
  totpHex?: string;
}

export interface SimToken {
  /** `root@pam!sim` */
  tokenid: string;
  secret: string;
  /** Privilege separation: own ACL intersected with the user's; otherwise the user's privileges. */
  privsep: boolean;
  acl: AclEntry[];
}

/** The authenticated caller of one request. */
export interface Principal {
  /** `root@pam` or `root@pam!sim` (PVE's effective user id for tokens). */
  id: string;
  user: SimUser;
  token?: SimToken;
  /** Authenticated by ticket (writes then need the CSRF token). */
  viaTicket: boolean;
}

function entryMatches(entry: AclEntry, path: string): boolean {
  if (entry.path === path) return true;
  if (!entry.propagate) return false;
  if (entry.path === '/') return true;
  return path.startsWith(`${entry.path}/`);
}

function privsOf(acl: readonly AclEntry[], path: string): Set<string> {
  const applying = acl.filter((e) => entryMatches(e, path));
  // Entries on an ancestor of `path` (or on it): the longest path is the deepest level.
  const deepest = Math.max(-1, ...applying.map((e) => (e.path === '/' ? 0 : e.path.length)));
  const out = new Set<string>();
  for (const e of applying) if ((e.path === '/' ? 0 : e.path.length) === deepest) for (const p of e.privs) out.add(p);
  return out;
}

/** The privileges a principal holds on a path. */
export function privilegesOn(p: Principal, path: string): Set<string> {
  const user = p.user.superuser && !p.token ? new Set<string>(ALL_PRIVILEGES) : privsOf(p.user.acl, path);
  if (!p.token) return user;
  if (!p.token.privsep) {
    // A token of root@pam without privsep has root's privileges but is not root for root-only checks.
    return p.user.superuser ? new Set<string>(ALL_PRIVILEGES) : user;
  }
  const own = privsOf(p.token.acl, path);
  const userPrivs = p.user.superuser ? new Set<string>(ALL_PRIVILEGES) : user;
  return new Set([...own].filter((x) => userPrivs.has(x)));
}

/** True only for the real root@pam user (not its tokens): skiplock, `/dev/...` paths. */
export function isRoot(p: Principal): boolean {
  return !!p.user.superuser && !p.token;
}

/** Paths worth listing in `GET /access/permissions` for this principal. */
export function aclPaths(p: Principal, extra: readonly string[]): string[] {
  const paths = new Set<string>(['/', ...extra]);
  for (const e of p.user.acl) paths.add(e.path);
  for (const e of p.token?.acl ?? []) paths.add(e.path);
  return [...paths];
}

/** The TOTP secret of `mfa@pve` (fixed, so a test or a person with an authenticator can log in). */
export const TOTP_DEMO_SECRET_HEX = '3132333435363738393031323334353637383930';

/** Credentials the simulator starts with; secrets are derived from the seed. */
export interface DefaultCredentials {
  users: SimUser[];
  tokens: SimToken[];
  /** `USER@REALM!TOKENID=SECRET` strings for the well-known tokens. */
  admin: string;
  audit: string;
  noDatastore: string;
}

/**
 * The default ACL: root@pam (password `simulator`), `audit@pve` (password `audit`), `operator@pve`
 * (password `operator`), `mfa@pve` (password `mfa` + TOTP), an admin token `root@pam!sim` (no privsep),
 * `audit@pve!ro` with VM.Audit + Datastore.Audit only, `nostore@pve!vm` with VM.Audit only, and
 * `operator@pve!convert` with what a conversion needs on /vms (but no Sys.Audit).
 */
export function defaultCredentials(secret: (label: string) => string): DefaultCredentials {
  const vmOps = ['VM.Audit', 'VM.Config.Disk', 'VM.Config.HWType', 'VM.Config.CDROM', 'VM.Config.Options', 'VM.PowerMgmt'];
  const users: SimUser[] = [
    { userid: 'root@pam', password: 'simulator', acl: [], superuser: true },
    {
      userid: 'audit@pve',
      password: 'audit',
      acl: [{ path: '/', privs: ['VM.Audit', 'Datastore.Audit'], propagate: true }],
    },
    { userid: 'nostore@pve', acl: [{ path: '/vms', privs: ['VM.Audit'], propagate: true }] },
    {
      // An auditor with TOTP: password `mfa`, then the code of TOTP_DEMO_SECRET_HEX.
      userid: 'mfa@pve',
      password: 'mfa',
      totpHex: TOTP_DEMO_SECRET_HEX,
      acl: [{ path: '/', privs: ['VM.Audit', 'Datastore.Audit'], propagate: true }],
    },
    {
      userid: 'operator@pve',
      password: 'operator',
      acl: [
        { path: '/vms', privs: vmOps, propagate: true },
        { path: '/storage', privs: ['Datastore.Audit'], propagate: true },
      ],
    },
  ];
  const tokens: SimToken[] = [
    { tokenid: 'root@pam!sim', secret: secret('root@pam!sim'), privsep: false, acl: [] },
    { tokenid: 'audit@pve!ro', secret: secret('audit@pve!ro'), privsep: false, acl: [] },
    { tokenid: 'nostore@pve!vm', secret: secret('nostore@pve!vm'), privsep: false, acl: [] },
    {
      tokenid: 'operator@pve!convert',
      secret: secret('operator@pve!convert'),
      privsep: true,
      acl: [
        { path: '/vms', privs: vmOps, propagate: true },
        { path: '/storage', privs: ['Datastore.Audit'], propagate: true },
      ],
    },
  ];
  const str = (id: string) => `${id}=${tokens.find((t) => t.tokenid === id)!.secret}`;
  return { users, tokens, admin: str('root@pam!sim'), audit: str('audit@pve!ro'), noDatastore: str('nostore@pve!vm') };
}

/** A UUID-shaped token secret like PVE's, from 32 hex digits. */
export function uuidFromHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
