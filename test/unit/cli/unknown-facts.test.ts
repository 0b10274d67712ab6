// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Facts that depend on a storage type we cannot see, as a user sees them offline: `--conf`
 * without `--storage-cfg` (or an unreadable storage.cfg) reports them as `unknown (<why>)` in the
 * table and --explain, `unknown` in CSV, null plus the `unknown` list in JSON - never a guess and
 * never "does not exist".
 */
import { describe, expect, it } from 'vitest';
import type { AuditReport } from '../../../src/analysis/types.js';
import { runCli } from '../../../src/cli/cli.js';
import { aioCell, cacheCell, deviceCell } from '../../../src/present/disk-facts.js';
import { CSV_COLUMNS } from '../../../src/present/csv.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

const NO_CFG = 'no storage.cfg given: pass --storage-cfg';

async function cli(args: string[]) {
  // Wide enough that no table cell wraps: these tests read cells, table-layout.test.ts the wrapping.
  const io = captureIO({ env: { COLUMNS: '1000' } });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

function tree(): string {
  return makeTree({
    'storage.cfg': STORAGE_CFG,
    '120.conf': conf('web', ['scsihw: virtio-scsi-single', 'scsi0: local-lvm:vm-120-disk-0,iothread=1,size=8G', 'scsi1: san:vm-120-disk-1,cache=none,aio=native']),
  });
}

describe('audit --conf without --storage-cfg', () => {
  it('json: aio and O_DIRECT are null with the reason in `unknown`; the controller and IO thread are known', async () => {
    const dir = tree();
    const { code, out, err } = await cli(['audit', '--conf', `${dir}/120.conf`, '--format', 'json']);
    expect(code).toBe(0);
    expect(err).toContain('no --storage-cfg given: every storage type is unknown');
    expect(err).not.toContain('does not exist');
    const [vm] = (JSON.parse(out) as AuditReport).vms;
    const [scsi0, scsi1] = vm!.disks;
    expect(scsi0).toMatchObject({
      controller: 'virtio-scsi-pci',
      iothread: { configured: true, effective: true },
      aio: { configured: null, effective: null },
      cacheDirect: null,
      startError: null,
      unknown: [
        { field: 'aio', reason: NO_CFG },
        { field: 'cacheDirect', reason: NO_CFG },
      ],
    });
    // cache=none is O_DIRECT whatever the storage; aio=native under -blockdev depends on it.
    expect(scsi1).toMatchObject({ cacheDirect: true, aio: { configured: 'native', effective: null }, unknown: [{ field: 'aio', reason: NO_CFG }] });
    expect(vm!.issues).toEqual([]);
    expect(vm!.risk!.reasons.find((r) => r.code === 'NOT_CHECKED' && r.message.includes("storage 'local-lvm'"))?.fix).toContain('--storage-cfg');
  });

  it('table and --explain say unknown with the reason; csv says unknown and why', async () => {
    const dir = tree();
    const table = await cli(['audit', '--conf', `${dir}/120.conf`]);
    const row = table.out.split('\n').find((l) => l.trimStart().startsWith('scsi0'))!;
    expect(row).toContain(`unknown (${NO_CFG})`);
    expect(row).toMatch(/ on +unknown/);

    const explain = await cli(['audit', '--conf', `${dir}/120.conf`, '--explain', '120']);
    expect(explain.out).toContain('scsi0: local-lvm:vm-120-disk-0 on local-lvm (type unknown)');
    expect(explain.out).toContain(`aio          configured default, effective unknown (${NO_CFG})`);
    expect(explain.out).toContain(`cache        unknown (${NO_CFG})`);

    const csv = await cli(['audit', '--conf', `${dir}/120.conf`, '--format', 'csv']);
    const [header, first] = csv.out.split('\n');
    const cols = header!.split(',');
    expect(cols).toEqual([...CSV_COLUMNS]);
    const cells = first!.split(',');
    const at = (name: string) => cells[cols.indexOf(name)];
    expect([at('aio_effective'), at('cache_direct'), at('qemu_device')]).toEqual(['unknown', 'unknown', 'scsi-hd']);
    expect(first).toContain(`aio: ${NO_CFG}; cacheDirect: ${NO_CFG}`);
  });

  it('with a storage.cfg the same VM gets real values; a storage missing from it still does not exist', async () => {
    const dir = tree();
    const { out } = await cli(['audit', '--conf', `${dir}/120.conf`, '--storage-cfg', `${dir}/storage.cfg`, '--format', 'json']);
    const disks = (JSON.parse(out) as AuditReport).vms[0]!.disks;
    expect(disks.map((d) => [d.aio.effective, d.cacheDirect, d.unknown])).toEqual([
      ['io_uring', true, undefined],
      ['native', true, undefined],
    ]);
    const lost = makeTree({ 'storage.cfg': STORAGE_CFG, '121.conf': conf('lost', ['scsi0: gone:vm-121-disk-0']) });
    const missing = await cli(['audit', '--conf', `${lost}/121.conf`, '--storage-cfg', `${lost}/storage.cfg`, '--format', 'json']);
    expect(missing.err).toContain("storage 'gone' is not defined in storage.cfg");
    expect((JSON.parse(missing.out) as AuditReport).vms[0]!.disks[0]!.startError).toBe("storage 'gone' does not exist");
  });

  it('an unreadable storage.cfg in a config dir makes the types unknown too, naming the file', async () => {
    const dir = makeTree({ 'nodes/n1/qemu-server/110.conf': conf('x', ['scsi0: local-lvm:vm-110-disk-0']) });
    const { code, out, err } = await cli(['audit', '--config-dir', dir, '--format', 'json']);
    expect(code).toBe(0);
    expect(err).not.toContain('does not exist');
    const d = (JSON.parse(out) as AuditReport).vms[0]!.disks[0]!;
    expect(d.startError).toBeNull();
    expect(d.unknown?.[0]?.reason).toBe(`cannot read ${dir}/storage.cfg: no such file or directory`);
  });
});

describe('cells', () => {
  it('an unknown value is marked and never reads as none, no medium or not attached', () => {
    const f = {
      qemuDevice: null,
      controller: 'lsi',
      controllerId: 'scsihw0',
      iothread: { configured: false, effective: false },
      aio: { configured: null, effective: null },
      cacheDirect: null,
      deviations: [],
      startError: null,
      unknown: [
        { field: 'qemuDevice' as const, reason: 'r1' },
        { field: 'aio' as const, reason: 'r2' },
        { field: 'cacheDirect' as const, reason: 'r3' },
      ],
    };
    expect([deviceCell(f), aioCell(f), cacheCell(f)]).toEqual([
      { text: 'unknown (r1)', marked: true },
      { text: 'unknown (r2)', marked: true },
      { text: 'unknown (r3)', marked: true },
    ]);
  });
});
