// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * qemu-server's own cfg2cmd tests (test/fixtures/cfg2cmd): every disk fact the audit's JSON output
 * reports must match what qemu-server puts on the QEMU command line. Not a single mismatch.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import type { AuditReport } from '../../../src/analysis/types.js';
import { captureIO } from './capture.js';
import { auditDiskFacts } from './cfg2cmd-reduce.js';

const DIR = fileURLToPath(new URL('../../fixtures/cfg2cmd/', import.meta.url));

interface Expected {
  test: string;
  qemuVersion: string | null;
  disks: { key: string; qemuDevice: string; controller: string | null; iothread: boolean; aio: string | null; cacheDirect: boolean | null }[];
}

const names = readdirSync(DIR)
  .filter((f) => f.endsWith('.expected.json'))
  .map((f) => f.replace(/\.expected\.json$/, ''))
  .sort();

/** `# QEMU_VERSION: X.Y` in the config (upstream test convention), else the expected file's. */
function qemuVersion(name: string, expected: Expected): string | null {
  const m = /^# QEMU_VERSION:\s*(\S+)/m.exec(readFileSync(`${DIR}${name}.conf`, 'utf8'));
  return m ? m[1]! : expected.qemuVersion;
}

describe('cfg2cmd fixtures through `audit --format json`', () => {
  it('has the pairs', () => {
    expect(names.length).toBeGreaterThanOrEqual(17);
  });

  it.each(names)('%s', async (name) => {
    const expected = JSON.parse(readFileSync(`${DIR}${name}.expected.json`, 'utf8')) as Expected;
    const version = qemuVersion(name, expected);
    const io = captureIO();
    const args = ['audit', '--conf', `${DIR}${name}.conf`, '--storage-cfg', `${DIR}storage.cfg`, '--format', 'json'];
    if (version) args.push('--qemu-version', version);
    expect(await runCli(args, io)).toBe(0);
    const report = JSON.parse(io.out()) as AuditReport;
    expect(report.vms).toHaveLength(1);
    const got = auditDiskFacts(report.vms[0]!);
    expect(got).toEqual(expected.disks);
  });
});
