// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Configs never seen: every real config of test/fixtures/configs audits without a crash, and for
 * generated drives the facts keep the invariants of docs/how-qemu-server-decides.md whatever the combination.
 */
import { notesOf } from '../../../src/present/deviations.js';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeVm, buildAuditReport, vmInputFromFile } from '../../../src/audit/index.js';
import { readConfFiles } from '../../../src/node/etc-pve.js';
import { ENV, STORAGES, vmInput } from './helpers.js';

const CONFIGS = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));

describe('real configs', () => {
  it('every file audits, and every disk has facts or says why it is not attached', async () => {
    const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.conf'));
    expect(files.length).toBeGreaterThan(30);
    const read = await readConfFiles(
      files.map((f) => CONFIGS + f),
      undefined,
    );
    expect(read.errors).toEqual([]);
    const report = buildAuditReport(
      read.vms.map((v) => vmInputFromFile(v.file, null)),
      ENV,
    );
    expect(report.vms).toHaveLength(files.length);
    for (const vm of report.vms) {
      for (const d of vm.disks) {
        if (d.qemuDevice === null && !d.onlyPending) expect(notesOf(d)[0]).toMatch(/^not given to QEMU: /);
      }
    }
  });
});

const STORAGE_IDS = [...STORAGES.keys()];
const BUSES = { ide: 4, sata: 6, scsi: 31, virtio: 16 } as const;

const driveArb = fc.record({
  bus: fc.constantFrom(...(Object.keys(BUSES) as (keyof typeof BUSES)[])),
  index: fc.nat(30),
  file: fc.oneof(
    fc.constantFrom('none', '/dev/sdb', '/srv/x.raw', 'cdrom'),
    fc.constantFrom(...STORAGE_IDS).map((s) => `${s}:vm-100-disk-0`),
    fc.constant('lvmthin:vm-100-cloudinit'),
  ),
  cdrom: fc.boolean(),
  cache: fc.option(fc.constantFrom('none', 'writethrough', 'writeback', 'unsafe', 'directsync'), { nil: undefined }),
  aio: fc.option(fc.constantFrom('native', 'threads', 'io_uring'), { nil: undefined }),
  iothread: fc.option(fc.constantFrom('1', '0', 'on'), { nil: undefined }),
});

const vmArb = fc.record({
  scsihw: fc.option(fc.constantFrom('lsi', 'lsi53c810', 'megasas', 'pvscsi', 'virtio-scsi-pci', 'virtio-scsi-single', 'virtio-scsi'), { nil: undefined }),
  machine: fc.option(fc.constantFrom('q35', 'pc', 'pc-q35-3.1', 'pc-i440fx-9.2', 'pc-q35-10.0+pve1', 'pc-i440fx-4.1+pve2'), { nil: undefined }),
  ostype: fc.option(fc.constantFrom('l26', 'win10', 'win11'), { nil: undefined }),
  template: fc.boolean(),
  drives: fc.array(driveArb, { maxLength: 5 }),
});

describe('invariants over generated VMs', () => {
  it('hold for every disk', () => {
    fc.assert(
      fc.property(vmArb, (vm) => {
        const current: Record<string, string> = {};
        if (vm.scsihw) current.scsihw = vm.scsihw;
        if (vm.machine) current.machine = vm.machine;
        if (vm.ostype) current.ostype = vm.ostype;
        if (vm.template) current.template = '1';
        for (const d of vm.drives) {
          const opts = [d.file, d.cdrom ? 'media=cdrom' : '', d.cache ? `cache=${d.cache}` : '', d.aio ? `aio=${d.aio}` : ''];
          if (d.iothread && (d.bus === 'scsi' || d.bus === 'virtio')) opts.push(`iothread=${d.iothread}`);
          current[`${d.bus}${d.index % BUSES[d.bus]}`] = opts.filter(Boolean).join(',');
        }
        const report = analyzeVm(vmInput(current), ENV);
        for (const disk of report.disks) {
          if (disk.qemuDevice === null) continue; // left off the command line (e.g. virtio cdrom)
          // No medium ⇔ no cache mode and no aio.
          if (disk.volume === 'none') expect([disk.cacheDirect, disk.aio.effective]).toEqual([null, null]);
          else expect(disk.cacheDirect).not.toBeNull();
          // An IO thread only on virtio-blk or on a virtio-scsi-single controller, and only when asked for.
          if (disk.iothread.effective) {
            expect(disk.iothread.configured).toBe(true);
            expect(disk.bus === 'virtio' || (disk.bus === 'scsi' && report.scsihw.effective === 'virtio-scsi-single')).toBe(true);
          }
          // Buses and devices match.
          if (disk.bus === 'virtio') expect([disk.qemuDevice, disk.controller]).toEqual(['virtio-blk-pci', null]);
          if (disk.bus === 'ide' || disk.bus === 'sata') expect(disk.qemuDevice).toMatch(/^ide-(hd|cd)$/);
          if (disk.bus === 'scsi') expect(disk.qemuDevice).toMatch(/^scsi-/);
          // An explicit aio is used verbatim whenever QEMU gets one.
          if (disk.aio.configured && disk.aio.effective) expect(disk.aio.effective).toBe(disk.aio.configured);
          // aio=native without O_DIRECT always comes with a start error when QEMU gets it on a file or device.
          if (disk.aio.effective === 'native' && disk.cacheDirect === false && !notesOf(disk).some((n) => n.includes('probably ignores'))) {
            expect(disk.startError).toContain('aio=native');
          }
        }
      }),
      { numRuns: 600 },
    );
  });
});
