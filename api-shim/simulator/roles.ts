// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Roles as pve-access-control defines them (AccessControl.pm `$privgroups` and `create_roles`):
 * per category the root/admin/user/audit privileges, from which the built-in roles
 * (Administrator, NoAccess, PVEAdmin, PVE<Cat>Admin, PVE<Cat>User, PVEAuditor,
 * PVETemplateUser) follow. The simulator's ACL entries hold privilege sets; `aclRole` names the
 * role an entry stands for (a built-in one when the set matches, else a custom role).
 */
import type { AclEntry } from './acl.js';
import type { PveVersion } from './types.js';

interface PrivGroup {
  root: string[];
  admin: string[];
  user: string[];
  audit: string[];
}

/** PVE 9 privilege groups (PVE 8 had VM.Monitor where 9 has VM.GuestAgent.*). */
const PRIV_GROUPS: Record<string, PrivGroup> = {
  VM: {
    root: [],
    admin: ['VM.Config.Disk', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.HWType', 'VM.Config.Options', 'VM.Allocate', 'VM.Clone', 'VM.GuestAgent.Unrestricted', 'VM.Migrate', 'VM.Replicate', 'VM.Snapshot', 'VM.Snapshot.Rollback'],
    user: ['VM.Config.CDROM', 'VM.Config.Cloudinit', 'VM.Console', 'VM.Backup', 'VM.GuestAgent.FileRead', 'VM.GuestAgent.FileSystemMgmt', 'VM.GuestAgent.FileWrite', 'VM.PowerMgmt'],
    audit: ['VM.Audit', 'VM.GuestAgent.Audit'],
  },
  Sys: { root: ['Sys.PowerMgmt', 'Sys.Modify', 'Sys.Incoming', 'Sys.AccessNetwork'], admin: ['Sys.Console', 'Sys.Syslog'], user: [], audit: ['Sys.Audit'] },
  Datastore: { root: [], admin: ['Datastore.Allocate', 'Datastore.AllocateTemplate'], user: ['Datastore.AllocateSpace'], audit: ['Datastore.Audit'] },
  SDN: { root: [], admin: ['SDN.Allocate', 'SDN.Audit'], user: ['SDN.Use'], audit: ['SDN.Audit'] },
  User: { root: ['Realm.Allocate'], admin: ['User.Modify', 'Group.Allocate', 'Realm.AllocateUser'], user: [], audit: [] },
  Pool: { root: [], admin: ['Pool.Allocate'], user: ['Pool.Audit'], audit: ['Pool.Audit'] },
  Mapping: { root: [], admin: ['Mapping.Modify'], user: ['Mapping.Use'], audit: ['Mapping.Audit'] },
};

export interface Role {
  roleid: string;
  privs: string[];
  /** Built-in (cannot be edited). */
  special: boolean;
}

/** PVE 8 names: VM.Monitor instead of the VM.GuestAgent.* split, no VM.Replicate. */
function forRelease(privs: Iterable<string>, version: PveVersion): string[] {
  const out = new Set<string>();
  for (const p of privs) {
    if (version === '8.2' && (p.startsWith('VM.GuestAgent.') || p === 'VM.Replicate')) {
      if (p === 'VM.GuestAgent.Unrestricted') out.add('VM.Monitor');
      continue;
    }
    out.add(p);
  }
  return [...out].sort();
}

/** The built-in roles of a release, sorted by id. */
export function builtinRoles(version: PveVersion): Role[] {
  const roles = new Map<string, Set<string>>([['NoAccess', new Set()], ['Administrator', new Set()], ['PVEAdmin', new Set()], ['PVEAuditor', new Set()]]);
  const add = (id: string, privs: string[]) => {
    const set = roles.get(id) ?? new Set<string>();
    for (const p of privs) set.add(p);
    roles.set(id, set);
  };
  for (const [cat, g] of Object.entries(PRIV_GROUPS)) {
    add('Administrator', [...g.root, ...g.admin, ...g.user, ...g.audit]);
    add(`PVE${cat}Admin`, [...g.admin, ...g.user, ...g.audit]);
    add('PVEAdmin', [...g.admin, ...g.user, ...g.audit]);
    if (g.user.length > 0) add(`PVE${cat}User`, [...g.user, ...g.audit]);
    add('PVEAuditor', g.audit);
  }
  // Only Administrator, root@pam and PVEMappingAdmin may modify mappings (create_roles).
  roles.get('PVEAdmin')!.delete('Mapping.Modify');
  add('PVETemplateUser', ['VM.Clone', 'VM.Audit']);
  return [...roles.entries()].map(([roleid, privs]) => ({ roleid, privs: forRelease(privs, version), special: true })).sort((a, b) => a.roleid.localeCompare(b.roleid));
}

/**
 * Built-in roles plus one custom role per distinct privilege set of the given ACL entries that
 * no built-in role matches (`SimRole1`, `SimRole2`, ... in order of appearance).
 */
export class RoleBook {
  readonly roles: Role[];
  private readonly bySet = new Map<string, string>();

  constructor(version: PveVersion, entries: Iterable<AclEntry>) {
    this.roles = builtinRoles(version);
    for (const r of this.roles) if (!this.bySet.has(r.privs.join(','))) this.bySet.set(r.privs.join(','), r.roleid);
    let n = 0;
    for (const e of entries) {
      const key = forRelease(e.privs, version).join(',');
      if (this.bySet.has(key)) continue;
      const roleid = `SimRole${++n}`;
      this.bySet.set(key, roleid);
      this.roles.push({ roleid, privs: key ? key.split(',') : [], special: false });
    }
  }

  /** The role an ACL entry grants. */
  roleOf(entry: AclEntry, version: PveVersion): string {
    return this.bySet.get(forRelease(entry.privs, version).join(','))!;
  }
}
