// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Real configs from the wild (test/fixtures/configs, sources in its README) audited against a stock
 * node's storage.cfg: what qemu-server refuses at start must be reported, and PVE's built-in `local`
 * storage must be known even where storage.cfg does not list it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
/** The START_ERROR messages up to qemu-server's words (without what follows for this run state). */
const qemuServerSays = (vm: VmReport): string[] => startErrors(vm).map((m) => m.replace(/, so the (VM will not start|next cold start of the VM will fail)\.$/, ''));

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

  // The PVE installer's storage.cfg on ZFS, and the same with local-zfs kept for containers only.
  const ZFS_STOCK = 'dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\nzfspool: local-zfs\n\tpool rpool/data\n\tsparse\n\tcontent images,rootdir\n';
  const storageCfg = (text: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'dp-wild-')), 'storage.cfg');
    writeFileSync(file, text);
    return file;
  };

  it('behappiness 100: the EFI disk and the TPM state are checked as vm_start checks them (check_volume_storage_type), not only the disks', async () => {
    expect(qemuServerSays(await audit('behappiness-100-win10-sata-tpm-no-scsihw.conf', storageCfg(ZFS_STOCK)))).toEqual([]);
    const vm = await audit('behappiness-100-win10-sata-tpm-no-scsihw.conf', storageCfg(ZFS_STOCK.replace('content images,rootdir', 'content rootdir')));
    expect(vm.risk!.level).toBe('critical');
    expect(qemuServerSays(vm)).toEqual([
      "efidisk0: storage 'local-zfs' does not support content-type 'images'",
      "sata0: storage 'local-zfs' does not support content-type 'images'",
      "tpmstate0: storage 'local-zfs' does not support content-type 'images'",
    ]);
    expect(vm.volumeStartErrors).toEqual([
      { key: 'efidisk0', volume: 'local-zfs:vm-100-disk-0', error: "storage 'local-zfs' does not support content-type 'images'" },
      { key: 'tpmstate0', volume: 'local-zfs:vm-100-disk-2', error: "storage 'local-zfs' does not support content-type 'images'" },
    ]);
  });

  it("a hibernated VM (lock: suspended) whose saved state sits on a storage without 'images' does not resume", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-wild-'));
    const real = readFileSync(`${DIR}behappiness-100-win10-sata-tpm-no-scsihw.conf`, 'utf8');
    writeFileSync(join(dir, '100.conf'), `lock: suspended\n${real}vmstate: nas:100/vm-100-state-suspend-2025-01-02.raw\n`);
    const nas = (content: string): string => storageCfg(`${ZFS_STOCK}\nnfs: nas\n\texport /volume1/pve\n\tpath /mnt/pve/nas\n\tserver 192.168.1.10\n${content}`);
    const run = async (cfg: string): Promise<VmReport> => {
      const io = captureIO();
      expect(await runCli(['audit', '--conf', join(dir, '100.conf'), '--storage-cfg', cfg, '--qemu-version', '11.0', '--format', 'json'], io)).toBe(0);
      return (JSON.parse(io.out()) as AuditReport).vms[0]!;
    };
    // NFS without a content line holds disk images (pve-storage NFSPlugin plugindata default).
    expect(qemuServerSays(await run(nas('')))).toEqual([]);
    expect(qemuServerSays(await run(nas('\tcontent backup,iso\n')))).toEqual(["vmstate: storage 'nas' does not support content-type 'images'"]);
  });

  it("technomagniaque 444: ISOs on a dir storage written without a content line (plugin default images,rootdir) do not start", async () => {
    const base = 'lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n';
    expect(qemuServerSays(await audit('technomagniaque-444-hand-edited-key-order.conf', storageCfg(`${base}dir: p2b\n\tpath /mnt/pve/p2b\n\tcontent iso,images\n`)))).toEqual([]);
    const vm = await audit('technomagniaque-444-hand-edited-key-order.conf', storageCfg(`${base}dir: p2b\n\tpath /mnt/pve/p2b\n`));
    expect(qemuServerSays(vm)).toEqual(["sata1: storage 'p2b' does not support content-type 'iso'"]);
  });

  it('seconion 102: a disk on a storage set `disable` (a NAS being retired) does not start (pve-storage storage_check_enabled)', async () => {
    const nas = `${readFileSync(STOCK, 'utf8')}\nnfs: storage\n\texport /srv/pve\n\tpath /mnt/pve/storage\n\tserver 10.0.0.9\n\tcontent images\n`;
    expect(qemuServerSays(await audit('idx53194523188-seconion-102-hookscript-tpm-mixed-storage.conf', storageCfg(nas)))).toEqual([]);
    const vm = await audit('idx53194523188-seconion-102-hookscript-tpm-mixed-storage.conf', storageCfg(`${nas}\tdisable\n`));
    expect(qemuServerSays(vm)).toEqual(["scsi1: storage 'storage' is disabled"]);
  });

  it("behappiness 100 in a copy of /etc/pve on node pve2, its storage limited to pve1 (`nodes pve1`): no volume is available there (storage_check_node)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-wild-'));
    mkdirSync(join(dir, 'nodes/pve2/qemu-server'), { recursive: true });
    writeFileSync(join(dir, 'storage.cfg'), ZFS_STOCK.replace('\tsparse\n', '\tsparse\n\tnodes pve1\n'));
    writeFileSync(join(dir, 'nodes/pve2/qemu-server/100.conf'), readFileSync(`${DIR}behappiness-100-win10-sata-tpm-no-scsihw.conf`));
    const io = captureIO();
    expect(await runCli(['audit', '--config-dir', dir, '--qemu-version', '11.0', '--format', 'json'], io)).toBe(0);
    const vm = (JSON.parse(io.out()) as AuditReport).vms[0]!;
    expect(qemuServerSays(vm)).toEqual([
      "efidisk0: storage 'local-zfs' is not available on node 'pve2'",
      "sata0: storage 'local-zfs' is not available on node 'pve2'",
      "tpmstate0: storage 'local-zfs' is not available on node 'pve2'",
    ]);
  });
});
