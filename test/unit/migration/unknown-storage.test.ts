// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The planner with a disk whose O_DIRECT could not be determined (its storage's type is unknown):
 * an unknown is not taken as "direct", so aio=native is not written where it may stop the VM.
 */
import { describe, expect, it } from 'vitest';
import { analyzeVm, vmInputFromFile } from '../../../src/audit/index.js';
import { planVm } from '../../../src/migration/planner.js';
import { parseVmConfig } from '../../../src/pve/index.js';
import { conf, env } from './helpers.js';

const WHY = 'not in /storage: the token lacks Datastore.Audit on /storage/ceph';

function plan(drive: string) {
  const input = vmInputFromFile(parseVmConfig(conf('ostype: l26', 'scsihw: virtio-scsi-single', `scsi0: ${drive}`), { vmid: 100 }), 'pve1');
  input.runtime = { status: 'running' };
  const report = analyzeVm(input, { ...env(), unreadableStorages: { ceph: WHY } });
  return planVm({ input, report, ha: null, permissions: null }, { aio: 'native' });
}

describe('planVm --aio native on a storage whose type is unknown', () => {
  it('cache unset (O_DIRECT unknown): aio stays, with a warning naming why', () => {
    const p = plan('ceph:vm-100-disk-0,size=8G');
    const g = p.warnings.find((w) => w.code === 'AIO_NATIVE_NEEDS_DIRECT');
    expect(g?.message).toContain(`may not be O_DIRECT (${WHY})`);
    expect(p.changes.find((c) => c.key === 'scsi0')?.after).not.toMatch(/aio=/);
  });

  it('cache=none is O_DIRECT whatever the storage: aio=native is written', () => {
    const p = plan('ceph:vm-100-disk-0,cache=none,size=8G');
    expect(p.warnings.map((w) => w.code)).not.toContain('AIO_NATIVE_NEEDS_DIRECT');
    expect(p.changes.find((c) => c.key === 'scsi0')?.after).toMatch(/aio=native/);
  });
});
