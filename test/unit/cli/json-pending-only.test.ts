// SPDX-License-Identifier: AGPL-3.0-or-later
/** `--format json` for a disk that exists only after the pending changes (the AuditReport contract, src/analysis/types.ts). */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, makeTree } from './tree.js';

const CONF = `name: web
scsi0: local-lvm:vm-100-disk-0,size=32G
scsihw: virtio-scsi-single

[PENDING]
scsi1: local-lvm:vm-100-disk-1,iothread=1,size=8G
`;

describe('audit --format json, disk added by [PENDING]', () => {
  it('lists it with its current facts null and its facts after the cold start in pending', async () => {
    const dir = makeTree({ 'storage.cfg': STORAGE_CFG, 'nodes/pve1/qemu-server/100.conf': CONF });
    const io = captureIO();
    expect(await runCli(['audit', '--config-dir', dir, '--format', 'json'], io)).toBe(0);
    const disks = JSON.parse(io.out()).vms[0].disks as Record<string, unknown>[];
    const added = disks.find((d) => d.key === 'scsi1')!;
    expect(added).toMatchObject({
      onlyPending: true,
      qemuDevice: null,
      controller: null,
      iothread: null,
      aio: null,
      cacheDirect: null,
      pending: {
        qemuDevice: 'scsi-hd',
        controller: 'virtio-scsi-pci',
        controllerId: 'virtioscsi1',
        iothread: { configured: true, effective: true },
        aio: { configured: null, effective: 'io_uring' },
        cacheDirect: true,
      },
    });
    // A disk present now keeps its current facts.
    expect(disks.find((d) => d.key === 'scsi0')).toMatchObject({ qemuDevice: 'scsi-hd', iothread: { configured: false, effective: false } });
  });
});
