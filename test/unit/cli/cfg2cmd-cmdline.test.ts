// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every qemu-server cfg2cmd test with a disk device (test/fixtures/cfg2cmd: `NAME.conf` and the
 * `NAME.conf.cmd` qemu-server expects, both verbatim), read straight from the command line: what the
 * audit says QEMU runs must be what qemu-server prints. The tests whose config qemu-server refuses
 * (`# EXPECT_ERROR:`) must be reported as a VM that does not start, with qemu-server's own words.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import type { AuditReport } from '../../../src/analysis/types.js';
import { captureIO } from './capture.js';
import { auditDiskFacts, reduceCmd } from './cfg2cmd-reduce.js';

const DIR = fileURLToPath(new URL('../../fixtures/cfg2cmd/', import.meta.url));
const files = readdirSync(DIR);
const withCmd = files.filter((f) => f.endsWith('.conf.cmd')).map((f) => f.slice(0, -'.conf.cmd'.length)).sort();
const expectError = files
  .filter((f) => f.endsWith('.conf') && /^# EXPECT_ERROR:/m.test(readFileSync(`${DIR}${f}`, 'utf8')))
  .map((f) => f.slice(0, -'.conf'.length))
  .sort();

async function auditWithStderr(name: string): Promise<{ report: AuditReport; stderr: string }> {
  const conf = readFileSync(`${DIR}${name}.conf`, 'utf8');
  const version = /^# QEMU_VERSION:\s*(\S+)/m.exec(conf)?.[1];
  const io = captureIO();
  const args = ['audit', '--conf', `${DIR}${name}.conf`, '--storage-cfg', `${DIR}storage.cfg`, '--format', 'json'];
  if (version) args.push('--qemu-version', version);
  expect(await runCli(args, io)).toBe(0);
  return { report: JSON.parse(io.out()) as AuditReport, stderr: io.err() };
}

async function audit(name: string): Promise<AuditReport> {
  return (await auditWithStderr(name)).report;
}

describe('qemu-server cfg2cmd command lines', () => {
  it('has every upstream test with a disk device (qemu-server 9.2.6: 30)', () => {
    expect(withCmd).toHaveLength(30);
  });

  it.each(files.filter((f) => f.endsWith('.expected.json')).map((f) => f.slice(0, -'.expected.json'.length)))(
    'the command-line reader agrees with the hand-reduced %s.expected.json',
    (name) => {
      const expected = JSON.parse(readFileSync(`${DIR}${name}.expected.json`, 'utf8')) as { disks: unknown[] };
      expect(reduceCmd(readFileSync(`${DIR}${name}.conf.cmd`, 'utf8'))).toEqual(expected.disks);
    },
  );

  it.each(withCmd)('%s: the audit reports what the command line runs', async (name) => {
    const want = reduceCmd(readFileSync(`${DIR}${name}.conf.cmd`, 'utf8'));
    expect(want.length).toBeGreaterThan(0);
    const report = await audit(name);
    expect(report.vms).toHaveLength(1);
    const got = auditDiskFacts(report.vms[0]!);
    expect(got).toEqual(want);
    expect(report.vms[0]!.risk!.reasons.filter((r) => r.code === 'START_ERROR')).toEqual([]);
  });
});

describe('qemu-server cfg2cmd tests that refuse to start, from a disk', () => {
  // The other EXPECT_ERROR tests are about USB, vIOMMU and machine versions, not disks.
  const diskErrors = ['ide-no-media-error', 'unsupported-storage-content-type'];

  it('has them', () => {
    expect(expectError).toEqual(expect.arrayContaining(diskErrors));
  });

  it.each(diskErrors)('%s: a critical START_ERROR in qemu-server words', async (name) => {
    const message = /^# EXPECT_ERROR:\s*(.*\S)/m.exec(readFileSync(`${DIR}${name}.conf`, 'utf8'))![1]!;
    const vm = (await audit(name)).vms[0]!;
    expect(vm.risk!.level).toBe('critical');
    const starts = vm.risk!.reasons.filter((r) => r.code === 'START_ERROR');
    expect(starts).toHaveLength(1);
    // qemu-server prefixes the drive id where the message names none; the reason always names the disk.
    expect(`${starts[0]!.disk}: ${starts[0]!.message}`).toContain(message.replace(/^(\w+): /, ''));
  });
});

describe('qemu-server cfg2cmd tests that refuse to start, from the pinned machine', () => {
  const machineErrors = ['machine/minimal-defaults-to-new-machine', 'machine/minimal-defaults-unsupported-pve-version'];

  it.each(machineErrors)("%s: a config error in qemu-server's words (up to the node name the audit does not add)", async (name) => {
    const message = /^# EXPECT_ERROR:\s*(.*\S)/m.exec(readFileSync(`${DIR}${name}.conf`, 'utf8'))![1]!;
    const { report, stderr } = await auditWithStderr(name);
    const issues = report.vms[0]!.issues.filter((i) => i.severity === 'error' && i.key === 'machine');
    expect(issues.map((i) => i.message)).toEqual([`${message.replace(/, please upgrade node '[^']*'$/, '')}: the VM does not start`]);
    expect(stderr).toContain(message.replace(/, please upgrade node '[^']*'$/, ''));
  });
});
