// SPDX-License-Identifier: AGPL-3.0-or-later
// The one privilege resolver on PVE's `GET /access/permissions` answer (pve-access-control
// RPCEnvironment.pm get_effective_permissions): each listed path holds its effective privileges.
import { describe, expect, it } from 'vitest';
import { type PermissionMap, hasPrivilege, privilegesOn } from '../../../src/pve/permissions.js';

describe('privilegesOn', () => {
  // An ACL on /storage/nas replaced the role inherited from /: PVE lists /storage/nas with only
  // what is effective there.
  const issue: PermissionMap = { '/': { 'Datastore.Audit': 1 }, '/storage/nas': { 'Datastore.AllocateSpace': 1 } };

  it('answers a listed path with its own entry, not merged with its parents (the issue #8 map)', () => {
    expect([...privilegesOn(issue, '/storage/nas')]).toEqual(['Datastore.AllocateSpace']);
    expect(hasPrivilege(issue, '/storage/nas', 'Datastore.Audit')).toBe(false);
    expect(hasPrivilege(issue, '/storage/nas', 'Datastore.AllocateSpace')).toBe(true);
  });

  it('answers a path without an entry from the nearest listed ancestor, with what it propagates', () => {
    expect([...privilegesOn(issue, '/storage/local')]).toEqual(['Datastore.Audit']);
    expect([...privilegesOn(issue, '/storage/nas/sub')]).toEqual(['Datastore.AllocateSpace']);
    const noPropagate: PermissionMap = { '/vms': { 'VM.Audit': 0, 'VM.Console': 1 }, '/storage/local': { 'Datastore.Audit': 0 } };
    expect([...privilegesOn(noPropagate, '/vms/100')]).toEqual(['VM.Console']);
    // Held on the path itself whatever the propagate flag says.
    expect(hasPrivilege(noPropagate, '/storage/local', 'Datastore.Audit')).toBe(true);
    expect(hasPrivilege(noPropagate, '/storage/local/x', 'Datastore.Audit')).toBe(false);
    expect(hasPrivilege(noPropagate, '/storage/other', 'Datastore.Audit')).toBe(false);
  });

  it('reads the path as PVE does (trailing and doubled slashes); an empty map holds nothing', () => {
    expect(hasPrivilege(issue, '/storage/nas/', 'Datastore.AllocateSpace')).toBe(true);
    expect(hasPrivilege(issue, 'storage//nas', 'Datastore.Audit')).toBe(false);
    expect(privilegesOn({}, '/vms/100').size).toBe(0);
  });
});
