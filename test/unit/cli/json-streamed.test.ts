// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The offline `--format json` is written while the VMs are audited: the same document as the
 * report written whole, and a slow reader of stdout (`| jq`) holds the audit back instead of the
 * CLI buffering the whole document in memory.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { audit } from '../../../src/cli/commands/audit.js';
import { formatJson } from '../../../src/present/json.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

/** 60 VMs over two nodes, written in no particular order, one VMID on both nodes, one config problem. */
function fleet(): string {
  const files: Record<string, string> = { 'storage.cfg': STORAGE_CFG };
  for (let i = 59; i >= 0; i--) {
    const vmid = 100 + ((i * 37) % 60);
    files[`nodes/${i % 2 ? 'pve2' : 'pve1'}/qemu-server/${vmid}.conf`] = conf(`vm${vmid}`, [`scsi0: local-lvm:vm-${vmid}-disk-0,size=8G`, `virtio1: san:vm-${vmid}-disk-1,iothread=1`]);
  }
  files['nodes/pve3/qemu-server/107.conf'] = conf('twin', ['scsi0: local-lvm:vm-107-disk-0,size=8G,bogus=1']);
  return makeTree(files);
}

describe('audit --format json of a copy of /etc/pve', () => {
  it('writes the document of the whole report, config problems on stderr', async () => {
    const dir = fleet();
    const io = captureIO();
    expect(await runCli(['audit', '--config-dir', dir, '--format', 'json'], io)).toBe(0);
    const whole = formatJson(await audit({ configDir: dir }));
    expect(io.out()).toBe(whole);
    const vms: Array<{ vmid: number; node: string }> = JSON.parse(io.out()).vms;
    expect(vms.map((v) => v.vmid)).toEqual([...vms.map((v) => v.vmid)].sort((a, b) => a - b));
    expect(vms.filter((v) => v.vmid === 107).map((v) => v.node)).toEqual([vms.find((v) => v.vmid === 107)!.node, 'pve3']);
    expect(vms).toHaveLength(61);
    expect(io.err()).toMatch(/107\.conf:\d+: error: scsi0: invalid key in comma-separated list property: bogus/);
  });

  it('waits for a slow reader of stdout after each piece instead of buffering the rest', async () => {
    const dir = fleet();
    const whole = formatJson(await audit({ configDir: dir }));
    const io = captureIO();
    const pieces: string[] = [];
    let release: () => void = () => {};
    let waiting = 0;
    io.stdout = (t) => void pieces.push(t);
    io.drained = () => {
      waiting++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    const done = runCli(['audit', '--config-dir', dir, '--format', 'json'], io);
    await expect.poll(() => waiting, { timeout: 10_000 }).toBe(1);
    // The reader has not taken the first piece: nothing more is written meanwhile.
    await new Promise((r) => setTimeout(r, 50));
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.length).toBeLessThan(whole.length / 2);
    for (let n = 1; ; n++) {
      release();
      const settled = await Promise.race([done.then(() => true), expect.poll(() => waiting, { timeout: 10_000 }).toBe(n + 1).then(() => false)]);
      if (settled) break;
    }
    expect(await done).toBe(0);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join('')).toBe(whole);
  });
});
