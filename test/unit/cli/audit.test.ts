// SPDX-License-Identifier: AGPL-3.0-or-later
/** `pve-dataplane audit` offline: formats, filters, error messages and exit codes. */
import { notesOf } from '../../../src/present/deviations.js';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AuditReport, VmReport } from '../../../src/analysis/types.js';
import { runCli } from '../../../src/cli/cli.js';
import { audit } from '../../../src/cli/commands/audit.js';
import { CSV_COLUMNS } from '../../../src/present/csv.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/etc-pve', import.meta.url));

async function cli(args: string[], opts: { isTTY?: boolean } = {}) {
  // Wide enough that no table cell wraps: these tests read cells, table-layout.test.ts the wrapping.
  const io = captureIO({ ...opts, env: { COLUMNS: '1000' } });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

function vm(report: AuditReport, vmid: number): VmReport {
  const found = report.vms.find((v) => v.vmid === vmid);
  if (!found) throw new Error(`VM ${vmid} missing`);
  return found;
}

describe('audit --config-dir examples/etc-pve', () => {
  it('returns one report per VM, each VM once although qemu-server/ links to nodes/pve1', async () => {
    const report = await audit({ configDir: EXAMPLES });
    expect(report.vms.map((v) => [v.vmid, v.node])).toEqual([
      [100, 'pve1'],
      [101, 'pve1'],
      [102, 'pve1'],
      [103, 'pve1'],
      [104, 'pve1'],
      [200, 'pve2'],
      [201, 'pve2'],
      [202, 'pve2'],
    ]);
    expect(report.assumptions[0]).toContain('assumed to be 11.0');
    expect(report.errors).toEqual([]);
  });

  it('json: the AuditReport shape', async () => {
    const { code, out, err } = await cli(['audit', '--config-dir', EXAMPLES, '--format', 'json']);
    expect([code, err]).toEqual([0, '']);
    const report = JSON.parse(out) as AuditReport;
    const v100 = vm(report, 100);
    expect(v100).toMatchObject({
      vmid: 100,
      name: 'db1',
      node: 'pve1',
      status: 'unknown',
      source: expect.stringMatching(/nodes\/pve1\/qemu-server\/100\.conf$/),
      digest: expect.stringMatching(/^[0-9a-f]{40}$/),
      scsihw: { configured: null, effective: 'lsi' },
    });
    expect(v100.disks[0]).toMatchObject({
      key: 'scsi0',
      bus: 'scsi',
      media: 'disk',
      volume: 'local-lvm:vm-100-disk-0',
      qemuDevice: 'scsi-hd',
      controller: 'lsi',
      iothread: { configured: true, effective: false },
      aio: { configured: null, effective: 'io_uring' },
      cacheDirect: true,
    });
    const v200 = vm(report, 200);
    expect(v200.scsihw.pending).toEqual({ configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' });
    expect(v200.disks[0]!.pending).toMatchObject({ controller: 'virtio-scsi-pci', iothread: { effective: true }, aio: { effective: 'threads' } });
    expect(vm(report, 101).disks.map((d) => d.aio.effective)).toEqual(['native', 'threads']);
    expect(vm(report, 103).disks.map((d) => d.aio.effective)).toEqual(['threads', null]);
    expect(vm(report, 104).machine).toMatchObject({ version: '8.1+pve0', blockdev: false, type: 'q35' });
  });

  it('table: grouped per VM, marked effective values, pending as now → after cold start, no colour when piped', async () => {
    const { code, out } = await cli(['audit', '--config-dir', EXAMPLES]);
    expect(code).toBe(0);
    expect(out).not.toContain('\x1b[');
    expect(out).toMatch(/^VM 100 db1 · node pve1 · run state unknown \(files only\) · scsihw lsi \(default\)/m);
    expect(out).toMatch(/^ {2}scsi0 +local-lvm:vm-100-disk-0 +scsi-hd +lsi \(scsihw0\) +iothread=1 \(ignored: scsihw lsi\)/m);
    expect(out).toContain('default → native (lvm)');
    expect(out).toContain('default → threads (krbd, cache=writeback)');
    expect(out).toMatch(/scsihw lsi \(default\) → virtio-scsi-single/);
    expect(out).toMatch(/lsi \(scsihw0\) → virtio-scsi-pci \(virtioscsi0\) +off → on +io_uring → threads/);
    expect(out).toContain('ide-cd (template)');
    expect(out).toContain('note: installed QEMU assumed to be 11.0');
  });

  it('table: colours on a terminal, none with NO_COLOR', async () => {
    const tty = captureIO({ isTTY: true });
    await runCli(['audit', '--config-dir', EXAMPLES], tty);
    expect(tty.out()).toContain('\x1b[');
    const noColor = captureIO({ isTTY: true, env: { NO_COLOR: '1' } });
    await runCli(['audit', '--config-dir', EXAMPLES], noColor);
    expect(noColor.out()).not.toContain('\x1b[');
  });

  it('csv: a header and one row per disk, quoted where needed', async () => {
    const { code, out } = await cli(['audit', '--config-dir', EXAMPLES, '--format', 'csv']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const report = await audit({ configDir: EXAMPLES });
    expect(lines).toHaveLength(1 + report.vms.reduce((n, v) => n + v.disks.length, 0));
    const row = lines.find((l) => l.startsWith('100,db1,pve1,'))!.split(',');
    const col = (name: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(name)];
    expect([col('disk'), col('controller'), col('iothread_configured'), col('iothread_effective'), col('aio_effective')]).toEqual([
      'scsi0',
      'lsi',
      'true',
      'false',
      'io_uring',
    ]);
    const pending = lines.find((l) => l.startsWith('200,web1,pve2,'))!;
    expect(pending).toContain(',changed,scsi-hd,virtio-scsi-pci,virtioscsi0,true,threads,true,');
    // A note with a comma is quoted (RFC 4180).
    expect(lines.find((l) => l.startsWith('101,app1,') && l.includes(',scsi1,'))).toContain(',"aio default → threads (lvm, cache=writeback)",');
  });

  it('--qemu-version changes unpinned VMs and drops the assumption', async () => {
    const report = await audit({ configDir: EXAMPLES, qemuVersion: '9.2.0' });
    expect(vm(report, 103).machine).toMatchObject({ version: '9.2+pve1', blockdev: false });
    expect(vm(report, 103).disks[1]!.aio.effective).toBe('io_uring');
    expect(report.assumptions.some((a) => a.includes('assumed to be'))).toBe(false);
  });
});

describe('filters', () => {
  it('--vmid and --node select VMs', async () => {
    expect((await audit({ configDir: EXAMPLES, vmids: [100, 202] })).vms.map((v) => v.vmid)).toEqual([100, 202]);
    expect((await audit({ configDir: EXAMPLES, node: 'pve2' })).vms.map((v) => v.vmid)).toEqual([200, 201, 202]);
    const { out } = await cli(['audit', '--config-dir', EXAMPLES, '--vmid', '101,200', '--node', 'pve2', '--format', 'json']);
    expect((JSON.parse(out) as AuditReport).vms.map((v) => v.vmid)).toEqual([200]);
  });

  it('--explain shows every fact of one VM with the reasons', async () => {
    const { code, out } = await cli(['audit', '--config-dir', EXAMPLES, '--explain', '200']);
    expect(code).toBe(0);
    expect(out).toMatch(/^VM 200 \(web1\)/);
    expect(out).toContain('after the next cold start: virtio-scsi-single → effective virtio-scsi-single');
    expect(out).toMatch(/after the next cold start:\n {6}device +scsi-hd\n {6}controller +virtio-scsi-pci \(virtioscsi0\)/);
    expect(out).not.toContain('VM 100');
    const json = await cli(['audit', '--config-dir', EXAMPLES, '--explain', '101', '--format', 'json']);
    expect(notesOf((JSON.parse(json.out) as VmReport).disks[0]!)).toContain('aio default → native (lvm)');
  });

  it('--explain names the pending cache mode', async () => {
    const dir = makeTree({
      'storage.cfg': STORAGE_CFG,
      'qemu-server/120.conf': conf('c', ['scsi0: local-lvm:vm-120-disk-0,size=8G'], ['', '[PENDING]', 'scsi0: local-lvm:vm-120-disk-0,cache=writeback,size=8G']),
    });
    const { out } = await cli(['audit', '--config-dir', dir, '--explain', '120']);
    expect(out).toMatch(/cache +direct \(default\)\n {4}after the next cold start:[^]*cache +not direct \(writeback\)/);
  });

  it('--explain of a VM that is not there exits 1 and says so', async () => {
    const { code, err } = await cli(['audit', '--config-dir', EXAMPLES, '--explain', '999']);
    expect(code).toBe(1);
    expect(err).toContain('VM 999 is not among the audited configs');
  });
});

describe('errors name file, line and key; the other VMs are still reported', () => {
  it('a malformed drive line', async () => {
    const dir = makeTree({
      'storage.cfg': STORAGE_CFG,
      'nodes/pve1/qemu-server/105.conf': conf('bad', ['sata0: local-lvm:vm-105-disk-0,size=8G', 'sata1: local-lvm:vm-105-disk-1,iothread=1,size=8G']),
      'nodes/pve1/qemu-server/106.conf': conf('good', ['scsi0: local-lvm:vm-106-disk-0,size=8G']),
    });
    const { code, out, err } = await cli(['audit', '--config-dir', dir, '--format', 'json']);
    expect(code).toBe(0);
    expect(err).toMatch(/nodes\/pve1\/qemu-server\/105\.conf:4: error: sata1: .*iothread/);
    const report = JSON.parse(out) as AuditReport;
    expect(report.vms.map((v) => v.vmid)).toEqual([105, 106]);
    expect(vm(report, 105).disks.map((d) => [d.key, d.qemuDevice])).toEqual([
      ['sata0', 'ide-hd'],
      ['sata1', null],
    ]);
  });

  it('an unknown storage', async () => {
    const dir = makeTree({
      'storage.cfg': STORAGE_CFG,
      'qemu-server/107.conf': conf('lost', ['scsi0: gone:vm-107-disk-0,size=8G']),
    });
    const { code, err } = await cli(['audit', '--config-dir', dir]);
    expect(code).toBe(0);
    expect(err).toMatch(/qemu-server\/107\.conf:3: error: scsi0: storage 'gone' is not defined in storage\.cfg/);
  });

  it('a missing file among --conf files: exit 0 with the others; only missing files: exit 1', async () => {
    const dir = makeTree({ 'storage.cfg': STORAGE_CFG, '108.conf': conf('ok', ['virtio0: local-lvm:vm-108-disk-0,iothread=1']) });
    const some = await cli(['audit', '--conf', `${dir}/108.conf`, `${dir}/109.conf`, '--storage-cfg', `${dir}/storage.cfg`]);
    expect(some.code).toBe(0);
    expect(some.err).toContain(`${dir}/109.conf: error: cannot read: no such file or directory`);
    expect(some.out).toMatch(/^VM 108 ok/m);
    const none = await cli(['audit', '--conf', `${dir}/109.conf`, '--storage-cfg', `${dir}/storage.cfg`]);
    expect(none.code).toBe(1);
    expect(none.err).toContain('nothing could be audited');
  });

  it('a missing config dir, and a dir without VM configs', async () => {
    const missing = await cli(['audit', '--config-dir', '/nonexistent/etc-pve']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('/nonexistent/etc-pve: error: cannot read config dir: no such file or directory');
    const empty = await cli(['audit', '--config-dir', makeTree({ 'storage.cfg': STORAGE_CFG })]);
    expect(empty.code).toBe(1);
    expect(empty.err).toContain('no VM configs found');
  });

  it('a missing storage.cfg is reported, the VMs are still audited', async () => {
    const dir = makeTree({ 'nodes/n1/qemu-server/110.conf': conf('x', ['scsi0: local-lvm:vm-110-disk-0']) });
    const { code, err } = await cli(['audit', '--config-dir', dir]);
    expect(code).toBe(0);
    expect(err).toMatch(/storage\.cfg: error: cannot read storage\.cfg/);
  });

  it('an unreadable config line (no key: value) names file and line', async () => {
    const dir = makeTree({ 'storage.cfg': STORAGE_CFG, 'qemu-server/111.conf': 'name: x\nthis is not a config line\nscsi0: local-lvm:vm-111-disk-0\n' });
    const { code, err } = await cli(['audit', '--config-dir', dir]);
    expect(code).toBe(0);
    expect(err).toMatch(/111\.conf:2: error: .*unable to parse config line/);
  });
});

describe('PVE_URL and PVE_FINGERPRINT of a shell set up for online runs', () => {
  it('an offline audit ignores them and reads the files', async () => {
    const io = captureIO({ env: { COLUMNS: '1000', PVE_URL: 'https://127.0.0.1:1', PVE_FINGERPRINT: 'not-a-fingerprint', PVE_TOKEN: 'x@pve!t=s' } });
    const code = await runCli(['audit', '--config-dir', EXAMPLES, '--format', 'json'], io);
    expect(io.err()).not.toMatch(/--pve|fingerprint|127\.0\.0\.1/);
    expect(code).toBe(0);
    expect(JSON.parse(io.out()).vms.length).toBeGreaterThan(0);
  });

  it('--pve on the command line with --config-dir is still refused', async () => {
    const { code, err } = await cli(['audit', '--config-dir', EXAMPLES, '--pve', 'https://127.0.0.1:1']);
    expect(code).toBe(2);
    expect(err).toContain('choose the online or the offline audit');
  });
});

describe('usage errors exit 2', () => {
  it.each([
    [['audit', '--config-dir', EXAMPLES, '--format', 'xml'], /argument 'xml' is invalid/],
    [['audit', '--config-dir', EXAMPLES, '--vmid', 'abc'], /option '--vmid <list>' argument 'abc' is invalid\. 'abc' is not a VMID/],
    [['audit', '--config-dir', EXAMPLES, '--concurrency', '0'], /option '--concurrency <n>' argument '0' is invalid\. expected a whole number from 1 to 64/],
    [['audit', '--config-dir', EXAMPLES, '--explain', '100,101'], /option '--explain <vmid>' argument '100,101' is invalid\. expected one VMID/],
    [['audit', '--config-dir', EXAMPLES, '--qemu-version', 'eleven'], /--qemu-version: 'eleven' is not a version/],
    [['audit', '--config-dir', EXAMPLES, '--conf', 'x.conf'], /either --config-dir or --conf/],
    [['audit', '--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('%j', async (args, message) => {
    const { code, err } = await cli(args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('--help exits 0 and lists the audit options', async () => {
    const { code, out } = await cli(['audit', '--help']);
    expect(code).toBe(0);
    expect(out).toContain('--config-dir <dir>');
    expect(out).toContain('--pve <url>');
    // A new user in a fresh clone finds the sample tree and the table width rule in the help.
    expect(out).toContain('pve-dataplane audit --config-dir examples/etc-pve');
    expect(out).toContain('The table wraps to the terminal width (piped: COLUMNS, else 120)');
  });
});
