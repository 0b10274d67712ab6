// SPDX-License-Identifier: AGPL-3.0-or-later
/** Reading a copy of /etc/pve (src/node/etc-pve.ts): layouts, node names, dedupe, read errors. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfFiles, readConfigDir } from '../../../src/node/etc-pve.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

const vm = (id: number) => conf(`vm${id}`, [`scsi0: local-lvm:vm-${id}-disk-0,size=8G`]);
const ids = (r: Awaited<ReturnType<typeof readConfigDir>>) => r.vms.map((v) => [v.file.vmid, v.node]).sort((a, b) => Number(a[0]) - Number(b[0]));

describe('readConfigDir', () => {
  it('reads nodes/*/qemu-server with the node from the folder name, and storage.cfg', async () => {
    const dir = makeTree({
      'storage.cfg': STORAGE_CFG,
      'nodes/a/qemu-server/100.conf': vm(100),
      'nodes/b/qemu-server/200.conf': vm(200),
      'nodes/b/qemu-server/201.conf.tmp.1234': 'garbage',
      'nodes/b/lxc/300.conf': 'arch: amd64\n',
    });
    const r = await readConfigDir(dir);
    expect(ids(r)).toEqual([
      [100, 'a'],
      [200, 'b'],
    ]);
    expect([...r.storages.keys()]).toEqual(['local', 'local-lvm', 'san']);
    expect(r.errors).toEqual([]);
  });

  it('reads each VM once when qemu-server is the symlink pmxcfs makes', async () => {
    const dir = makeTree({
      'storage.cfg': STORAGE_CFG,
      'nodes/a/qemu-server/100.conf': vm(100),
      'nodes/b/qemu-server/200.conf': vm(200),
      'qemu-server': { symlink: 'nodes/a/qemu-server' },
    });
    expect(ids(await readConfigDir(dir))).toEqual([
      [100, 'a'],
      [200, 'b'],
    ]);
  });

  it('reads each VM once when qemu-server is a plain copy of the local node folder', async () => {
    const dir = makeTree({
      'storage.cfg': STORAGE_CFG,
      'nodes/a/qemu-server/100.conf': vm(100),
      'qemu-server/100.conf': vm(100),
      'qemu-server/101.conf': vm(101),
    });
    expect(ids(await readConfigDir(dir))).toEqual([
      [100, 'a'],
      [101, null],
    ]);
  });

  it('names the node of qemu-server/ VMs from .vmlist, else from ../hostname, else leaves it unknown', async () => {
    const withVmlist = makeTree({
      'storage.cfg': STORAGE_CFG,
      'qemu-server/100.conf': vm(100),
      '.vmlist': JSON.stringify({ version: 3, ids: { '100': { node: 'pve7', type: 'qemu', version: 1 } } }),
    });
    expect(ids(await readConfigDir(withVmlist))).toEqual([[100, 'pve7']]);
    const root = makeTree({ 'etc/hostname': 'pve9.example.com\n', 'etc/pve/storage.cfg': STORAGE_CFG, 'etc/pve/qemu-server/100.conf': vm(100) });
    expect(ids(await readConfigDir(join(root, 'etc/pve')))).toEqual([[100, 'pve9']]);
    const bare = makeTree({ 'storage.cfg': STORAGE_CFG, 'qemu-server/100.conf': vm(100) });
    expect(ids(await readConfigDir(bare))).toEqual([[100, null]]);
  });

  it('filters by VMID and node before reading', async () => {
    const dir = makeTree({
      'storage.cfg': STORAGE_CFG,
      'nodes/a/qemu-server/100.conf': vm(100),
      'nodes/a/qemu-server/101.conf': vm(101),
      'nodes/b/qemu-server/200.conf': vm(200),
    });
    mkdirSync(join(dir, 'nodes/b/qemu-server/201.conf'));
    expect(ids(await readConfigDir(dir, { vmids: new Set([101, 200]) }))).toEqual([
      [101, 'a'],
      [200, 'b'],
    ]);
    const onlyA = await readConfigDir(dir, { node: 'a' });
    expect(ids(onlyA)).toEqual([
      [100, 'a'],
      [101, 'a'],
    ]);
    expect(onlyA.errors).toEqual([]);
  });

  it('reports a file it cannot read, by path, and reads the rest', async () => {
    const dir = makeTree({ 'storage.cfg': STORAGE_CFG, 'nodes/a/qemu-server/100.conf': vm(100) });
    mkdirSync(join(dir, 'nodes/a/qemu-server/101.conf'));
    const r = await readConfigDir(dir);
    expect(ids(r)).toEqual([[100, 'a']]);
    expect(r.errors).toEqual([{ source: join(dir, 'nodes/a/qemu-server/101.conf'), severity: 'error', message: 'cannot read: is a directory, not a file' }]);
  });

  it('keeps the exact text: the digest is the SHA-1 of the file', async () => {
    const text = vm(100);
    const dir = makeTree({ 'storage.cfg': STORAGE_CFG, 'nodes/a/qemu-server/100.conf': text });
    const { createHash } = await import('node:crypto');
    expect((await readConfigDir(dir)).vms[0]!.file.digest).toBe(createHash('sha1').update(text).digest('hex'));
  });

  it('defers the parse of a <vmid>.conf: the deferred parse gives the config the file gives, digest and issues included', async () => {
    const text = conf('vm100', ['scsi0: local-lvm:vm-100-disk-0,size=8G', 'bogus: 1', '[PENDING]', 'scsi1: local-lvm:vm-100-disk-1']);
    const dir = makeTree({ 'storage.cfg': STORAGE_CFG, 'nodes/a/qemu-server/100.conf': text, 'nodes/a/qemu-server/101.conf': vm(101) });
    const { vms } = await readConfigDir(dir);
    expect(vms.map((v) => v.deferred?.vmid).sort()).toEqual([100, 101]);
    const first = vms.find((v) => v.deferred?.vmid === 100);
    // Each parse is a fresh one (nothing kept), and it is the file of the read, not the last file read.
    const parsed = first!.deferred!.parse();
    expect(parsed).not.toBe(first!.deferred!.parse());
    expect(parsed).toEqual(first!.file);
    expect(parsed.raw).toBe(text);
    expect(parsed.issues.length).toBeGreaterThan(0);
  });
});

describe('readConfFiles', () => {
  it('takes the VMID from <vmid>.conf and leaves other names to the caller', async () => {
    const dir = makeTree({ '100.conf': vm(100), 'web.conf': vm(200), 'storage.cfg': STORAGE_CFG });
    const r = await readConfFiles([join(dir, '100.conf'), join(dir, 'web.conf')], join(dir, 'storage.cfg'), 'n1');
    expect(r.vms.map((v) => [v.file.vmid, v.node])).toEqual([
      [100, 'n1'],
      [null, 'n1'],
    ]);
    expect(r.storages.size).toBe(3);
  });
});

describe('digest of bytes that are not UTF-8', () => {
  it('is the SHA-1 of the bytes on disk, as PVE computes it', async () => {
    const { createHash } = await import('node:crypto');
    const { writeFileSync } = await import('node:fs');
    const dir = makeTree({ 'storage.cfg': STORAGE_CFG });
    mkdirSync(join(dir, 'qemu-server'));
    const bytes = Buffer.concat([Buffer.from('#caf'), Buffer.from([0xe9]), Buffer.from('\nname: x\n')]);
    writeFileSync(join(dir, 'qemu-server/100.conf'), bytes);
    expect((await readConfigDir(dir)).vms[0]!.file.digest).toBe(createHash('sha1').update(bytes).digest('hex'));
  });

  it('is the digest the core computes (node:crypto in the reader, the portable SHA-1 in the browser)', async () => {
    const { digestOf } = await import('../../../src/pve/index.js');
    const { sha1Hex } = await import('../../../src/node/etc-pve.js');
    const bytes = Buffer.concat([Buffer.from('#caf'), Buffer.from([0xe9, 0x00, 0xff]), Buffer.from('\nscsi0: local:vm-1-disk-0,size=1G\n'.repeat(50))]);
    expect(sha1Hex(bytes)).toBe(digestOf(bytes));
  });
});
