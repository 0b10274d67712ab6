// SPDX-License-Identifier: AGPL-3.0-or-later
/** `--format csv` keeps every VM (one without disks gets one row) and carries each VM's risk. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { CSV_COLUMNS } from '../../../src/present/csv.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

describe('audit --format csv', () => {
  const root = makeTree({
    'storage.cfg': STORAGE_CFG,
    'nodes/pve1/qemu-server/100.conf': conf('gpu-only', [], ['hostpci0: 0000:01:00,pcie=1']),
    'nodes/pve1/qemu-server/101.conf': conf('lsi', ['scsi0: local-lvm:vm-101-disk-0,iothread=1']),
  });

  it('lists a VM without disks on one row with empty disk fields', async () => {
    const io = captureIO();
    expect(await runCli(['audit', '--config-dir', root, '--format', 'csv'], io)).toBe(0);
    const rows = io.out().trimEnd().split('\n').slice(1).map((l) => l.split(','));
    const col = (r: string[], name: (typeof CSV_COLUMNS)[number]) => r[CSV_COLUMNS.indexOf(name)];
    expect(rows.map((r) => [col(r, 'vmid'), col(r, 'name'), col(r, 'disk')])).toEqual([
      ['100', 'gpu-only', ''],
      ['101', 'lsi', 'scsi0'],
    ]);
  });

  it('carries the risk level and the reason codes of the VM on each of its rows', async () => {
    const io = captureIO();
    await runCli(['audit', '--config-dir', root, '--format', 'csv'], io);
    const rows = io.out().trimEnd().split('\n').slice(1).map((l) => l.split(','));
    const lsi = rows.find((r) => r[0] === '101')!;
    expect(lsi[CSV_COLUMNS.indexOf('risk_level')]).toBe('warning');
    expect(lsi[CSV_COLUMNS.indexOf('risk_reasons')]).toMatch(/^MAIN_LOOP_IO scsi0; IOTHREAD_IGNORED scsi0; /);
  });
});
