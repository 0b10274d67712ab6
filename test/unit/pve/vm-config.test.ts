// SPDX-License-Identifier: AGPL-3.0-or-later
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addPendingDelete,
  configValues,
  deleteConfigKey,
  digestOf,
  parsePendingDelete,
  parseVmConfig,
  printPendingDelete,
  printVmConfig,
  removePendingDelete,
  sectionDrives,
  setConfigValue,
} from '../../../src/pve/index.js';

const values = (raw: string) => configValues(parseVmConfig(raw).main);

describe('parseVmConfig: lines', () => {
  it('accepts key:value without a space, trims trailing whitespace and keeps blank-ish values', () => {
    expect(values('hotplug:0\ntablet: 0  \r\nboot: order=scsi0;ide2  \n')).toEqual({
      hotplug: '0',
      tablet: '0',
      boot: 'order=scsi0;ide2',
    });
    // PVE's `:\s*(.+?)\s*$` backtracks so that a value of only spaces keeps one space.
    expect(values('boot:  \n').boot).toBe(' ');
  });

  it('keeps the last of repeated keys and warns at the line that loses', () => {
    const file = parseVmConfig('net3: virtio=AA,bridge=vmbr0\ncores: 2\nnet3: virtio=BB,bridge=vmbr1\n', { source: '/etc/pve/qemu-server/100.conf' });
    expect(configValues(file.main).net3).toBe('virtio=BB,bridge=vmbr1');
    expect(file.main.entries.get('net3')!.line).toBe(3);
    expect(file.issues).toHaveLength(1);
    expect(file.issues[0]).toMatchObject({ line: 1, key: 'net3', severity: 'warning', source: '/etc/pve/qemu-server/100.conf' });
    expect(file.issues[0]!.message).toContain('line 3 sets it again');
    expect(file.vmid).toBe(100);
  });

  it('reports lines that are not key: value, never dropping them silently', () => {
    const file = parseVmConfig('cores: 2\n  indented: 1\nboot:\nBad Line\nmemory: 2048\n');
    expect(configValues(file.main)).toEqual({ cores: '2', memory: '2048' });
    expect(file.issues.map((i) => [i.line, i.severity])).toEqual([
      [2, 'error'],
      [3, 'error'],
      [4, 'error'],
    ]);
    expect(file.issues[2]!.message).toContain("'Bad Line'");
  });

  it('reads the legacy cdrom key as ide2, in line order', () => {
    expect(values('ide2: none,media=cdrom\ncdrom: local:iso/a.iso,media=cdrom\n')).toEqual({ ide2: 'local:iso/a.iso,media=cdrom' });
    expect(values('cdrom: local:iso/a.iso\nide2: none,media=cdrom\n')).toEqual({ ide2: 'none,media=cdrom' });
  });

  it('warns about unknown settings and values PVE would drop, but keeps them', () => {
    const file = parseVmConfig('frobnicate: 1\nonboot: maybe\ncores: 0x2\n');
    expect(configValues(file.main)).toEqual({ frobnicate: '1', onboot: 'maybe', cores: '0x2' });
    expect(file.issues.map((i) => i.key)).toEqual(['frobnicate', 'onboot', 'cores']);
    expect(file.issues[1]!.message).toContain("type check ('boolean') failed - got 'maybe'");
  });

  it('keeps drive values verbatim (no canonicalisation on read, docs/how-qemu-server-decides.md#drive-keys)', () => {
    expect(values('scsi0: local:vm-1-disk-0,size=32G,iothread=on\n').scsi0).toBe('local:vm-1-disk-0,size=32G,iothread=on');
  });
});

describe('parseVmConfig: descriptions', () => {
  it('joins every # line of a section, URL-decoded, trailing whitespace removed', () => {
    const file = parseVmConfig('#Line %3A one k%C3%B6nnen\ncores: 1\n#second  \n#\n\n[snap1]\n#snap note\nsnaptime: 1\n');
    expect(file.main.description).toBe('Line : one können\nsecond');
    expect(file.snapshots[0]!.description).toBe('snap note');
  });

  it('appends description: lines to the # lines', () => {
    expect(parseVmConfig('#a\ndescription: b%3Ac\n').main.description).toBe('a\nb:c');
  });

  it('is null without # lines', () => {
    expect(parseVmConfig('cores: 1\n').main.description).toBeNull();
  });
});

describe('parseVmConfig: sections', () => {
  const raw = [
    'cores: 2',
    'scsi0: local:vm-100-disk-0,size=4G',
    '',
    '[pending]',
    'cores: 4',
    'delete: net1; !scsi1 ,tablet',
    '',
    '[special:cloudinit]',
    'name: new',
    '',
    '[cloudinit]',
    'snaptime: 5',
    '',
    '[special:bogus]',
    'x: y',
    'random text',
    '',
    '[Snap-2]',
    'snaptime: 6',
    '',
  ].join('\n');
  const file = parseVmConfig(raw);

  it('reads [PENDING] case-insensitively with its delete list', () => {
    expect(configValues(file.pending!)).toEqual({ cores: '4' });
    expect(file.pending!.deletes).toEqual([
      { key: 'net1', force: false },
      { key: 'scsi1', force: true },
      { key: 'tablet', force: false },
    ]);
  });

  it('reads [special:cloudinit] as a special section and [cloudinit] as a snapshot', () => {
    expect(file.special.map((s) => [s.kind, s.name])).toEqual([['special', 'special:cloudinit']]);
    expect(file.snapshots.map((s) => s.name)).toEqual(['cloudinit', 'Snap-2']);
  });

  it('skips unknown sections with an issue and keeps their lines', () => {
    expect(file.unknownSections).toEqual([{ name: 'special:bogus', line: 14, lines: ['x: y', 'random text'] }]);
    expect(file.issues).toHaveLength(1);
    expect(file.issues[0]).toMatchObject({ line: 14, severity: 'warning' });
  });

  it('refuses delete: outside [PENDING]', () => {
    const f = parseVmConfig('delete: cores\ncores: 1\n');
    expect(f.issues[0]).toMatchObject({ line: 1, key: 'delete', severity: 'error' });
    expect(f.main.deletes).toEqual([]);
  });
});

describe('pending delete lists', () => {
  it('parses , ; and whitespace, ! as force, and prints sorted comma-joined', () => {
    const d = parsePendingDelete(' scsi1;!virtio0  net0,,!ide2 ');
    expect(d).toEqual([
      { key: 'ide2', force: true },
      { key: 'net0', force: false },
      { key: 'scsi1', force: false },
      { key: 'virtio0', force: true },
    ]);
    expect(printPendingDelete(d)).toBe('!ide2,net0,scsi1,!virtio0');
  });
});

describe('digest', () => {
  it('equals sha1sum of the file bytes', () => {
    const raw = '#caf%C3%A9 ü\nname: vm\n\n[PENDING]\ncores: 2\n';
    const dir = mkdtempSync(join(tmpdir(), 'pve-digest-'));
    writeFileSync(join(dir, '100.conf'), raw, 'utf8');
    const sum = execFileSync('sha1sum', [join(dir, '100.conf')], { encoding: 'utf8' }).split(' ')[0];
    expect(parseVmConfig(raw).digest).toBe(sum);
    expect(digestOf(raw)).toBe(sum);
  });

  it('is taken over the given bytes when the caller has them', () => {
    const bytes = new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0x0a]);
    expect(parseVmConfig('name: \ufffd\n', { bytes }).digest).toBe(digestOf(bytes));
  });
});

describe('printVmConfig (write_vm_config)', () => {
  it('writes the description first as encoded # lines and sorts keys byte-wise', () => {
    let file = parseVmConfig('scsi10: st:vm-1-disk-2\nscsi2: st:vm-1-disk-1\nname: vm\n');
    file = setConfigValue(file, 'main', 'description', '50% off: now\ncafé\tx\n\nend\n\n');
    expect(printVmConfig(file)).toBe('#50%25 off%3A now\n#caf%C3%A9%09x\n#\n#end\nname: vm\nscsi10: st:vm-1-disk-2\nscsi2: st:vm-1-disk-1\n');
  });

  it('writes main, [PENDING], [special:*], then snapshots sorted, each after an empty line', () => {
    const raw = [
      '[snapB]',
      'snaptime: 2',
      '[special:cloudinit]',
      'name: x',
      '[PENDING]',
      'cores: 4',
      '[snapA]',
      'snaptime: 1',
    ].join('\n');
    const withCloudinit = setConfigValue(parseVmConfig(raw), 'main', 'ide2', 'local:vm-100-cloudinit,media=cdrom');
    expect(printVmConfig(withCloudinit)).toBe(
      'ide2: local:vm-100-cloudinit,media=cdrom\n\n[PENDING]\ncores: 4\n\n[special:cloudinit]\nname: x\n\n[snapA]\nsnaptime: 1\n\n[snapB]\nsnaptime: 2\n',
    );
  });

  it('leaves out [special:cloudinit] without a cloud-init drive, and an empty [PENDING]', () => {
    expect(printVmConfig(parseVmConfig('cores: 1\n[PENDING]\n[special:cloudinit]\nname: x\n'))).toBe('cores: 1\n');
  });

  it('puts delete: at its sorted place in [PENDING], sorted and comma-joined', () => {
    const file = parseVmConfig('cores: 1\n\n[PENDING]\nmemory: 4096\ndelete: virtio0 !scsi1;balloon\nbios: ovmf\n');
    expect(printVmConfig(file)).toBe('cores: 1\n\n[PENDING]\nbios: ovmf\ndelete: balloon,!scsi1,virtio0\nmemory: 4096\n');
  });

  it('writes an emptied pending description as "#"', () => {
    const file = setConfigValue(parseVmConfig('#old\ncores: 1\n'), 'pending', 'description', '');
    expect(printVmConfig(file)).toBe('#old\ncores: 1\n\n[PENDING]\n#\n');
  });

  it('normalises values like check_type, keeps args and drives verbatim, never writes digest', () => {
    const raw = 'onboot: yes\ncores: 004\nname: "x"\nostype: "l26"\nargs: -foo "bar"\ndigest: abc\nscsi0: st:vm-1-disk-0,iothread=on\n';
    expect(printVmConfig(parseVmConfig(raw))).toBe(
      'args: -foo "bar"\ncores: 4\nname: "x"\nonboot: 1\nostype: l26\nscsi0: st:vm-1-disk-0,iothread=on\n',
    );
  });

  it('writes cdrom as ide2, turns smp into sockets and drops main snapstate', () => {
    const file = setConfigValue(parseVmConfig('smp: 4\ncores: 2\nsnapstate: prepare\n'), 'main', 'cdrom', 'none,media=cdrom');
    expect(printVmConfig(file)).toBe('ide2: none,media=cdrom\nsockets: 4\n');
  });

  it('drops unusedN entries whose volume is used by a drive again', () => {
    const raw = 'scsi0: st:vm-100-disk-0,size=1G\nunused0: st:vm-100-disk-0\nunused1: st:vm-100-disk-1\n\n[PENDING]\nscsi1: st:vm-100-disk-1\n';
    expect(printVmConfig(parseVmConfig(raw))).toBe('scsi0: st:vm-100-disk-0,size=1G\n\n[PENDING]\nscsi1: st:vm-100-disk-1\n');
  });

  it('is stable: printing a printed config gives the same text', () => {
    const raw = 'tablet:yes\n#note: x\ncores: 1\n[PENDING]\ndelete: a;b\n[s1]\nsnaptime: 01\n';
    const once = printVmConfig(parseVmConfig(raw));
    expect(printVmConfig(parseVmConfig(once))).toBe(once);
  });
});

describe('model helpers are pure', () => {
  const file = parseVmConfig('cores: 1\nname: vm\n');

  it('setConfigValue / deleteConfigKey return new files and leave the input alone', () => {
    const set = setConfigValue(file, 'main', 'cores', '4');
    const del = deleteConfigKey(set, 'main', 'name');
    expect(configValues(file.main)).toEqual({ cores: '1', name: 'vm' });
    expect(configValues(set.main)).toEqual({ cores: '4', name: 'vm' });
    expect(configValues(del.main)).toEqual({ cores: '4' });
    expect(printVmConfig(del)).toBe('cores: 4\n');
    expect(del.raw).toBe(file.raw);
  });

  it('creates [PENDING] on demand and edits its delete list', () => {
    const p = removePendingDelete(addPendingDelete(addPendingDelete(file, 'name'), 'scsi0', true), 'name');
    expect(file.pending).toBeNull();
    expect(p.pending!.deletes).toEqual([{ key: 'scsi0', force: true }]);
    expect(printVmConfig(setConfigValue(p, 'pending', 'cores', '2'))).toBe('cores: 1\nname: vm\n\n[PENDING]\ncores: 2\ndelete: !scsi0\n');
  });
});

describe('sectionDrives', () => {
  it('returns parsed drives in PVE order with file and line in their issues', () => {
    const file = parseVmConfig('sata0: st:vm-1-disk-0,iothread=1\nscsi0: st:vm-1-disk-1\nide2: none,media=cdrom\nunused0: st:vm-1-disk-9\nnet0: virtio\n', {
      source: '/x/1.conf',
    });
    const drives = sectionDrives(file);
    expect(drives.map((d) => d.key)).toEqual(['ide2', 'scsi0', 'sata0', 'unused0']);
    const sata = drives.find((d) => d.key === 'sata0')!;
    expect(sata.issues[0]).toMatchObject({ source: '/x/1.conf', line: 1, key: 'sata0', subkey: 'iothread' });
    expect(sata.issues[0]!.message).toMatch(/^\/x\/1\.conf line 1: sata0: invalid key/);
  });
});

describe('printVmConfig is idempotent for a whitespace-only description', () => {
  it.each(['description:    \n', 'description: \r\n', 'description:\t \r\n', 'description: a \r\n', '#  \n#\t\n'])('%j', (head) => {
    const once = printVmConfig(parseVmConfig(`${head}memory: 512\n`));
    expect(printVmConfig(parseVmConfig(once))).toBe(once);
  });
});
