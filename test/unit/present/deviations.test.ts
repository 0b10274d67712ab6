// SPDX-License-Identifier: AGPL-3.0-or-later
/** Disk deviations are data (field, configured, effective, because); the renderer words them once. */
import { describe, expect, it } from 'vitest';
import { analyzeVm, vmInputFromFile } from '../../../src/audit/index.js';
import { parseStorageCfg, parseVmConfig } from '../../../src/pve/index.js';
import { notesOf } from '../../../src/present/deviations.js';
import { aioCell, cacheCell, iothreadCell } from '../../../src/present/disk-facts.js';

const STORAGE = 'lvm: thick\n\tvgname vg\n\tcontent images\n\nrbd: ceph\n\tpool vm\n\tcontent images\n';

function disk(line: string, extra = '') {
  const input = vmInputFromFile(parseVmConfig(`${extra}${line}\n`, { vmid: 100, source: '100.conf' }), 'pve1');
  return analyzeVm(input, { storages: parseStorageCfg(STORAGE).storages, installedQemu: [10, 1, 0], installedQemuAssumed: false }).disks[0]!;
}

describe('structured deviations', () => {
  it('iothread=1 on LSI: the field, both values and the cause with its parameter', () => {
    const d = disk('scsi0: thick:vm-100-disk-0,iothread=1');
    expect(d.deviations).toContainEqual({ field: 'iothread', configured: true, effective: false, because: { code: 'scsihw-not-single', scsihw: 'lsi' } });
    expect(iothreadCell(d).text).toBe('iothread=1 (ignored: scsihw lsi)');
    expect(notesOf(d)).toContain('iothread=1 ignored: scsihw lsi');
  });

  it('the aio default on thick LVM with a writeback cache names storage and cache', () => {
    const d = disk('scsi0: thick:vm-100-disk-0,cache=writeback');
    expect(d.deviations).toContainEqual({
      field: 'aio',
      configured: null,
      effective: 'threads',
      because: { code: 'aio-default', storage: 'lvm', direct: false, cache: 'writeback', cdrom: false },
    });
    expect(aioCell(d).text).toBe('default → threads (lvm, cache=writeback)');
  });

  it('librbd under -blockdev gets no aio at all, and says so (never "aio none")', () => {
    const d = disk('scsi0: ceph:vm-100-disk-0');
    expect(d.deviations.map((x) => x.because)).toContainEqual({ code: 'blockdev-no-aio', storage: 'librbd' });
    expect(aioCell(d).text).toBe('no aio (librbd, -blockdev)');
  });

  it('a CD-ROM with cache unset is not O_DIRECT', () => {
    const d = disk('ide2: ceph:vm-100-disk-9,media=cdrom');
    expect(d.deviations).toContainEqual({ field: 'cacheDirect', configured: null, effective: false, because: { code: 'cache-default-not-direct', why: 'cdrom' } });
    expect(cacheCell(d).text).toBe('default → not direct (cdrom)');
  });
});
