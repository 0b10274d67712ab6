// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Real configs from the wild (test/fixtures/configs, sources in its README) audited against a stock
 * node's storage.cfg: what qemu-server refuses at start must be reported, and PVE's built-in `local`
 * storage must be known even where storage.cfg does not list it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import type { AuditReport, VmReport } from '../../../src/analysis/types.js';
import { captureIO } from './capture.js';

const DIR = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));
const STOCK = `${DIR}storage-installer-lvm.cfg`;

async function audit(conf: string, storageCfg: string): Promise<VmReport> {
  const io = captureIO();
  expect(await runCli(['audit', '--conf', `${DIR}${conf}`, '--storage-cfg', storageCfg, '--qemu-version', '11.0', '--format', 'json'], io)).toBe(0);
  const report = JSON.parse(io.out()) as AuditReport;
  expect(report.vms).toHaveLength(1);
  return report.vms[0]!;
}

const startErrors = (vm: VmReport): string[] => vm.risk!.reasons.filter((r) => r.code === 'START_ERROR').map((r) => r.message);

describe('real configs against a stock node', () => {
  it('iroger 100 v1: an ISO attached without media= (OpenCore as a boot disk) no longer starts (qemu-server >= 8.3.10)', async () => {
    const vm = await audit('iroger-100-v1-hand-edited-nospace-after-colon.conf', STOCK);
    expect(vm.risk!.level).toBe('critical');
    expect(startErrors(vm)).toEqual([
      expect.stringMatching(/^ide2: explicit media parameter is required for iso images, so the .*(will not start|will fail)\.$/),
    ]);
  });

  it("jfrostbite 102: qcow2 disks on the installer's 'local' (content iso,vztmpl,backup) do not start", async () => {
    const vm = await audit('jfrostbite-102-synology-sata-qcow2.conf', STOCK);
    expect(vm.risk!.level).toBe('critical');
    expect(startErrors(vm)).toEqual([
      expect.stringContaining("sata0: storage 'local' does not support content-type 'images'"),
      expect.stringContaining("sata1: storage 'local' does not support content-type 'images'"),
    ]);
  });

  it("jfrostbite 102 with a storage.cfg that omits 'local': PVE's built-in dir at /var/lib/vz, not a missing storage", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-wild-'));
    const cfg = join(dir, 'storage.cfg');
    writeFileSync(cfg, 'lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n');
    const vm = await audit('jfrostbite-102-synology-sata-qcow2.conf', cfg);
    expect(startErrors(vm)).toEqual([]);
    expect(vm.disks.map((d) => [d.key, d.controller, d.aio.effective, d.cacheDirect])).toEqual([
      ['sata0', 'ahci', 'io_uring', true],
      ['sata1', 'ahci', 'io_uring', true],
    ]);
    expect(vm.risk!.reasons.some((r) => /storage 'local'/.test(r.message))).toBe(false);
  });
});
