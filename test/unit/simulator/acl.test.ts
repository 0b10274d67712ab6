// SPDX-License-Identifier: AGPL-3.0-or-later
// The simulator's ACL follows pve-access-control AccessControl.pm `roles`: the deepest level of a
// path with entries that apply replaces what the levels above gave.
import { describe, expect, it } from 'vitest';
import { type Principal, privilegesOn } from '../../../api-shim/simulator/acl.js';

function userWith(acl: Principal['user']['acl']): Principal {
  return { id: 'helpdesk@pve', user: { userid: 'helpdesk@pve', acl }, viaTicket: false };
}

describe('simulator ACL: a specific entry replaces the inherited ones', () => {
  const p = userWith([
    { path: '/', privs: ['VM.Audit', 'Datastore.Audit'], propagate: true },
    { path: '/vms/100', privs: ['VM.Console'], propagate: true },
    { path: '/vms/101', privs: [], propagate: true }, // PVE's NoAccess role
    { path: '/vms/102', privs: ['VM.PowerMgmt'], propagate: false },
    { path: '/vms', privs: ['VM.Audit', 'VM.Config.Disk'], propagate: false },
  ]);

  it('on /vms/100 the user holds VM.Console only, not the VM.Audit of /', () => {
    expect([...privilegesOn(p, '/vms/100')]).toEqual(['VM.Console']);
  });

  it('an empty entry (NoAccess) on /vms/101 leaves nothing', () => {
    expect(privilegesOn(p, '/vms/101').size).toBe(0);
  });

  it('a non-propagating entry applies on its own path only, and does not cut what / propagates below it', () => {
    expect([...privilegesOn(p, '/vms')].sort()).toEqual(['VM.Audit', 'VM.Config.Disk']);
    expect([...privilegesOn(p, '/vms/103')].sort()).toEqual(['Datastore.Audit', 'VM.Audit']);
    expect([...privilegesOn(p, '/vms/102')]).toEqual(['VM.PowerMgmt']);
  });
});
