// SPDX-License-Identifier: AGPL-3.0-or-later
// A snapshot's RAM state on a storage the audit cannot find in storage.cfg (removed since, or
// hidden from the token) is unknown, not "not on network storage".
import { describe, expect, it } from 'vitest';
import { buildAuditReport, vmInputFromFile } from '../../../src/audit/index.js';
import { parseStorageCfg } from '../../../src/pve/storage-cfg.js';
import { parseVmConfig } from '../../../src/pve/vm-config-parse.js';

const STORAGE = 'dir: local\n\tpath /var/lib/vz\n\tcontent images\n\nnfs: nas\n\tserver 10.0.0.5\n\texport /vm\n\tpath /mnt/pve/nas\n\tcontent images\n';

function reasonsWithState(vmstate: string) {
  const text = [
    'name: db1',
    'parent: before-upgrade',
    'scsihw: virtio-scsi-single',
    'scsi0: local:100/vm-100-disk-0.raw,iothread=1,aio=threads,size=8G',
    '',
    '[before-upgrade]',
    'scsihw: virtio-scsi-single',
    'scsi0: local:100/vm-100-disk-0.raw,iothread=1,aio=threads,size=8G',
    'snaptime: 1700000000',
    `vmstate: ${vmstate}`,
    '',
  ].join('\n');
  const input = vmInputFromFile(parseVmConfig(text, { vmid: 100, source: '100.conf' }), 'pve1');
  const vm = buildAuditReport([input], { storages: parseStorageCfg(STORAGE).storages, installedQemu: [10, 1, 0], installedQemuAssumed: false }).vms[0]!;
  return vm.risk!.reasons;
}

/** The NOT_CHECKED about a snapshot (an offline audit also has NOT_CHECKED for syslog, node status...). */
const snapshotNotChecked = (reasons: ReturnType<typeof reasonsWithState>) => reasons.find((r) => r.code === 'NOT_CHECKED' && r.check?.includes('snapshot'));

describe('RAM snapshot storage', () => {
  it('a vmstate on NFS is RAM_SNAPSHOT_NETWORK_STORAGE', () => {
    expect(reasonsWithState('nas:100/vm-100-state-before-upgrade.raw').map((r) => r.code)).toContain('RAM_SNAPSHOT_NETWORK_STORAGE');
  });

  it('a vmstate on a local dir says nothing', () => {
    const codes = reasonsWithState('local:100/vm-100-state-before-upgrade.raw').map((r) => r.code);
    expect(codes).not.toContain('RAM_SNAPSHOT_NETWORK_STORAGE');
    expect(snapshotNotChecked(reasonsWithState('local:100/vm-100-state-before-upgrade.raw'))).toBeUndefined();
  });

  it('a vmstate on a storage missing from storage.cfg is NOT_CHECKED (unknown), naming the snapshot and the storage', () => {
    const reasons = reasonsWithState('gone:100/vm-100-state-before-upgrade.raw');
    expect(reasons.map((r) => r.code)).not.toContain('RAM_SNAPSHOT_NETWORK_STORAGE');
    const r = snapshotNotChecked(reasons)!;
    expect(r.severity).toBe('unknown');
    expect(r.message).toBe(
      "Could not check whether snapshot before-upgrade saved its RAM to network storage: its vmstate storage 'gone' is not in storage.cfg, or not visible to the audit.",
    );
    expect(r.fix).toContain("storage 'gone'");
  });
});
