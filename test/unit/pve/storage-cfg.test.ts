// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import { parseStorageCfg, printStorageCfg, storageContent } from '../../../src/pve/index.js';

// Shaped like qemu-server's cfg2cmd test storages (shared fixture cfg2cmd/storage.cfg), plus
// the layout quirks SectionConfig accepts.
const text = [
  '# storage configuration',
  'dir: local',
  '\tpath /var/lib/vz',
  '\tcontent images,iso',
  '\tshared 0',
  '',
  'rbd: krbd-store',
  '\tmonhost 127.0.0.42,127.0.0.21,::1',
  '# a comment inside a section does not end it',
  '\tpool cpool',
  '\tkrbd',
  '',
  'BTRFS: btrfs-store',
  '   path /butter/bread   ',
  '\tnocow 1',
  '',
  '',
  'lvm: lvm-store',
  '\tvgname veegee',
  '\tvgname other',
  'not indented',
].join('\n');

describe('parseStorageCfg (SectionConfig)', () => {
  const { storages, issues } = parseStorageCfg(text, '/etc/pve/storage.cfg');

  it('reads sections, properties and bare keys as 1', () => {
    expect([...storages.keys()]).toEqual(['local', 'krbd-store', 'btrfs-store', 'lvm-store']);
    expect(storages.get('local')).toEqual({ id: 'local', type: 'dir', props: { path: '/var/lib/vz', content: 'images,iso', shared: '0' } });
    expect(storages.get('krbd-store')!.props).toEqual({ monhost: '127.0.0.42,127.0.0.21,::1', pool: 'cpool', krbd: '1' });
    expect(storages.get('btrfs-store')).toEqual({ id: 'btrfs-store', type: 'btrfs', props: { path: '/butter/bread', nocow: '1' } });
  });

  it('reports duplicate attributes and stray lines with file and line', () => {
    expect(storages.get('lvm-store')!.props).toEqual({ vgname: 'veegee' });
    expect(issues.map((i) => [i.line, i.key])).toEqual([
      [20, 'lvm-store'],
      [21, 'lvm-store'],
    ]);
    expect(issues[0]!.message).toMatch(/^\/etc\/pve\/storage\.cfg line 20: duplicate attribute 'vgname'/);
  });

  it('skips sections with an invalid id and never throws', () => {
    const r = parseStorageCfg('dir: x\n\tpath /a\n\ndir: ok1\n\tpath /b\n');
    expect([...r.storages.keys()]).toEqual(['ok1', 'local']);
    expect(r.issues[0]).toMatchObject({ line: 1, key: 'x' });
    expect([...parseStorageCfg('').storages.keys()]).toEqual(['local']);
  });

  it("always has PVE's 'local' dir at /var/lib/vz, as pve-storage parse_config makes it (a disk on local: is never on a missing storage)", () => {
    const everything = { path: '/var/lib/vz', content: 'backup,images,iso,rootdir,snippets,vztmpl' };
    expect(parseStorageCfg('lvmthin: local-lvm\n\tvgname pve\n\tthinpool data\n').storages.get('local')).toEqual({ id: 'local', type: 'dir', props: everything });
    // Another type, or another path, under the name 'local' is replaced.
    expect(parseStorageCfg('lvm: local\n\tvgname pve\n').storages.get('local')).toEqual({ id: 'local', type: 'dir', props: everything });
    expect(parseStorageCfg('dir: local\n\tpath /srv\n\tcontent images\n').storages.get('local')!.props).toEqual(everything);
    // The installer's own entry stays as written (its content list matters), without node restrictions.
    expect(parseStorageCfg('dir: local\n\tcontent iso,vztmpl\n\tnodes pve1\n').storages.get('local')!.props).toEqual({ content: 'iso,vztmpl', path: '/var/lib/vz' });
  });

  it("drops a boolean PVE refuses: 'krbd yes' is not krbd in storage.cfg (only 1/0), with a warning that says so", () => {
    const r = parseStorageCfg('rbd: ceph\n\tpool vm\n\tkrbd yes\n\tshared on\n\nbtrfs: bt\n\tpath /b\n\tnocow 0\n', '/etc/pve/storage.cfg');
    expect(r.storages.get('ceph')!.props).toEqual({ pool: 'vm' });
    expect(r.storages.get('bt')!.props).toEqual({ path: '/b', nocow: '0' });
    expect(r.issues.map((i) => [i.line, i.key])).toEqual([
      [3, 'ceph'],
      [4, 'ceph'],
    ]);
    expect(r.issues[0]!.message).toBe(
      "/etc/pve/storage.cfg line 3: 'krbd yes' in section 'ceph': PVE takes only 1 or 0 here and ignores the property, so 'krbd' is off; write 'krbd 1' if you mean it",
    );
  });

  it('prints SectionConfig layout that reads back the same', () => {
    const printed = printStorageCfg(storages);
    expect(printed.startsWith('dir: local\n\tpath /var/lib/vz\n')).toBe(true);
    expect(parseStorageCfg(printed).storages).toEqual(storages);
  });
});

describe('storageContent (what check_volume_storage_type tests)', () => {
  // A node's storage.cfg with sections written by hand (no content line) beside the GUI's.
  const { storages } = parseStorageCfg(
    [
      'dir: local',
      '\tpath /var/lib/vz',
      '\tcontent iso,vztmpl,backup',
      '',
      'zfspool: local-zfs',
      '\tpool rpool/data',
      '\tsparse',
      '',
      'dir: bulk',
      '\tpath /mnt/bulk',
      '',
      'nfs: nas',
      '\texport /volume1/pve',
      '\tpath /mnt/pve/nas',
      '\tserver 192.168.1.10',
      '',
      'cephfs: cephfs',
      '\tpath /mnt/pve/cephfs',
      '',
      'lvm: san',
      '\tvgname san',
      '\tcontent images,iso',
      '',
      'pbs: backup',
      '\tdatastore main',
      '\tserver 10.0.0.5',
      '',
      'myplugin: custom',
      '\tpath /x',
      '',
    ].join('\n'),
  );
  const content = (id: string): string[] | null => {
    const c = storageContent(storages.get(id)!);
    return c === null ? null : [...c].sort();
  };

  it("a written list is PVE's (split on commas, semicolons and spaces)", () => {
    expect(content('local')).toEqual(['backup', 'iso', 'vztmpl']);
  });

  it("a section without a content line gets its plugin's default (pve-storage plugindata), not 'anything'", () => {
    expect(content('local-zfs')).toEqual(['images', 'rootdir']);
    expect(content('bulk')).toEqual(['images', 'rootdir']);
    expect(content('nas')).toEqual(['images']);
    expect(content('cephfs')).toEqual(['backup']);
    expect(content('backup')).toEqual(['backup']);
  });

  it('a type the plugin cannot hold is dropped, as PVE drops it with a warning (ISOs on LVM)', () => {
    expect(content('san')).toEqual(['images']);
  });

  it('a plugin not built into pve-storage is not guessed', () => {
    expect(content('custom')).toBeNull();
  });
});
