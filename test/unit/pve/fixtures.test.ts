// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every real config of test/fixtures/configs (copied from the shared fixtures, see the README
 * there): parses without issues, every drive line round-trips, and parse -> print gives exactly
 * what PVE's writer gives: the same bytes for files PVE wrote itself, the re-sorted / re-encoded
 * text for hand-edited ones.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configValues,
  isDriveKey,
  normalizedConfigValue,
  parseDrive,
  parseVmConfig,
  printDrive,
  printVmConfig,
} from '../../../src/pve/index.js';

const dir = join(import.meta.dirname, '../../fixtures/configs');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.conf'))
  .sort();
const read = (f: string): string => readFileSync(join(dir, f), 'utf8');

/**
 * Files PVE did not write in this form (hand edits, upstream test inputs), and why its writer
 * changes them. All others must print back byte for byte.
 */
const REWRITTEN: Record<string, string> = {
  'alex1s-105-cloudinit-cicustom-virtio0-iothread.conf': 'no newline at the end of the file',
  'andreipaul-100-win10-writeback-iothread-backup0.conf': "'args' was added by hand before 'agent'",
  'dduese-100-no-scsihw-default-lsi-passthrough-byid.conf': 'scsi1-3 were appended by hand after virtio0',
  'iroger-100-v1-hand-edited-nospace-after-colon.conf': "'hotplug:0' / 'tablet:0' without space, no final newline",
  'specimen67-100-template-duplicate-keys-blank-boot.conf': "trailing spaces after the 'boot' value",
  'technomagniaque-444-hand-edited-key-order.conf': 'sata0/sata1 were moved by hand before localtime',
  'upstream-qemu-server-cfg2cmd-aio.conf': 'upstream test input: scsi keys in numeric, not byte order',
  'upstream-qemu-server-cfg2cmd-scsihw-megasas.conf': "upstream test input: ':' in a comment, scsi16 after scsi9",
  'upstream-qemu-server-restore-config-input-179.conf': 'backup restore input: #qmdump#map lines at the end, with ":"',
};

/**
 * Independent oracle for the single-section files above: what write_vm_config makes of them.
 * Comment lines go first in their order (':' escaped as %3A; these files have no other character
 * that needs escaping), then every `key: value` line normalised to one space after the colon,
 * trailing blanks removed, sorted by key.
 */
function pveLayout(raw: string): string {
  const lines = raw.split('\n').filter((l) => l.trim() !== '');
  const comments = lines.filter((l) => l.startsWith('#')).map((l) => `#${l.slice(1).replaceAll(':', '%3A')}`);
  const keyed = lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-z][a-z_-]*\d*):\s*(.*?)\s*$/.exec(l)!;
      return [m[1]!, m[2]!] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [...comments, ...keyed.map(([k, v]) => `${k}: ${v}`)].join('\n') + '\n';
}

describe('real configs (test/fixtures/configs)', () => {
  it('has all 37 configs of the shared corpus', () => {
    expect(files).toHaveLength(37);
    for (const f of Object.keys(REWRITTEN)) expect(files).toContain(f);
  });

  const sums = new Map(
    execFileSync('sha1sum', files, { cwd: dir, encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => {
        const [sum, name] = l.split(/\s+\*?/) as [string, string];
        return [name, sum];
      }),
  );

  for (const f of files) {
    describe(f, () => {
      const raw = read(f);
      const file = parseVmConfig(raw, { source: f });

      it('parses without issues, digest = sha1sum', () => {
        expect(file.issues).toEqual([]);
        expect(file.digest).toBe(sums.get(f));
      });

      it('every drive line round-trips exactly and is valid for PVE', () => {
        for (const section of [file.main, file.pending, ...file.special, ...file.snapshots]) {
          for (const [key, entry] of section?.entries ?? []) {
            if (!isDriveKey(key)) continue;
            const drive = parseDrive(key, entry.value, { vmid: file.vmid });
            expect(printDrive(drive)).toBe(entry.value);
            expect(drive.issues.filter((i) => i.severity === 'error'), `${key}: ${entry.value}`).toEqual([]);
          }
        }
      });

      if (REWRITTEN[f]) {
        it(`is rewritten by PVE's writer (${REWRITTEN[f]})`, () => {
          const printed = printVmConfig(file);
          expect(printed).not.toBe(raw);
          expect(printed).toBe(pveLayout(raw));
        });
      } else {
        it('prints back byte for byte (PVE wrote it)', () => {
          expect(printVmConfig(file)).toBe(raw);
        });
      }

      it('printing is stable', () => {
        const once = printVmConfig(file);
        expect(printVmConfig(parseVmConfig(once))).toBe(once);
      });
    });
  }

  it('iroger v1 rewritten by PVE matches v2 on every line whose content did not change', () => {
    const v1File = parseVmConfig(read('iroger-100-v1-hand-edited-nospace-after-colon.conf'));
    const v1 = printVmConfig(v1File);
    const v2 = read('iroger-100-v2-later-revision.conf');
    const v1Lines = v1.split('\n').filter((l) => l !== '');
    const v2Lines = new Set(v2.split('\n'));
    const v2Values = configValues(parseVmConfig(v2).main);
    const sameContent = Object.entries(configValues(v1File.main)).filter(([k, v]) => normalizedConfigValue(k, v) === v2Values[k]);
    // Among the keys that kept their value are the hand-edited `hotplug:0` and `tablet:0`.
    expect(sameContent.map(([k]) => k)).toEqual(expect.arrayContaining(['hotplug', 'tablet', 'bios', 'efidisk0']));
    for (const [key] of sameContent) {
      const line = v1Lines.find((l) => l.startsWith(`${key}:`));
      expect(v2Lines.has(line!), line).toBe(true);
    }
    expect(v1.endsWith('\n')).toBe(true);
  });

  it('reads the sections fixture like PVE', () => {
    const file = parseVmConfig(read('upstream-qemu-server-parse-config-input-sections.conf'), { vmid: 120 });
    expect(file.pending?.entries.get('bios')?.value).toBe('ovmf');
    expect(file.special.map((s) => s.name)).toEqual(['special:cloudinit']);
    expect(file.snapshots.map((s) => s.name)).toEqual(['foo']);
    expect(file.snapshots[0]!.entries.get('snaptime')?.value).toBe('1737548747');
  });

  it('decodes descriptions of the corpus', () => {
    expect(parseVmConfig(read('chillidaddy-501-description-comment-parent.conf')).main.description).toBe(
      'Unlinked PCI Devices um offline Backups erstellen zu können',
    );
    expect(parseVmConfig(read('alexjbarnes-200-docker-virtiofs-commented-disks.conf')).main.description).toBe(
      'scsi1: Odroid_PVE:200/vm-200-disk-0.qcow2,backup=0,iothread=1,size=100G\nscsi1: sda1:202/vm-202-disk-0.qcow2,backup=0,iothread=1,size=2000G',
    );
  });
});
