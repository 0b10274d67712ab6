// SPDX-License-Identifier: AGPL-3.0-or-later
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPending, applyPendingWithWarnings, configValues, digestOf, parseVmConfig, printVmConfig } from '../../../src/pve/index.js';

const conf = (text: string, vmid = 100) => parseVmConfig(text, { vmid });
const after = (text: string, vmid = 100) => applyPending(conf(text, vmid));

describe('applyPending (next cold start)', () => {
  it('returns a file without pending changes unchanged', () => {
    const file = conf('cores: 1\n');
    expect(applyPending(file)).toBe(file);
  });

  it('applies the upstream sections fixture: pending value set, sections kept, new raw/digest', () => {
    const raw = readFileSync(join(import.meta.dirname, '../../fixtures/configs/upstream-qemu-server-parse-config-input-sections.conf'), 'utf8');
    const file = applyPending(parseVmConfig(raw, { vmid: 120 }));
    expect(file.pending).toBeNull();
    expect(configValues(file.main).bios).toBe('ovmf');
    expect(file.special.map((s) => s.name)).toEqual(['special:cloudinit']);
    expect(file.raw).toBe(printVmConfig(file));
    expect(file.raw).toContain('bios: ovmf\nboot: order=scsi0\n');
    expect(file.raw).not.toContain('[PENDING]');
    expect(file.digest).toBe(digestOf(file.raw));
  });

  it('drops pending values equal to the current one (as PVE holds them) and sets the rest', () => {
    const file = after('onboot: 1\nscsi0: st:vm-100-disk-0,iothread=1\n\n[PENDING]\nonboot: yes\nscsi0: st:vm-100-disk-0,iothread=on\nmemory: 4096\n');
    expect(configValues(file.main)).toEqual({ onboot: '1', scsi0: 'st:vm-100-disk-0,iothread=on', memory: '4096' });
    // Same volume with other options: no unusedN for it.
    expect(file.raw).not.toContain('unused');
  });

  it('runs deletions first, so a key both deleted and set ends up set', () => {
    const file = after('cores: 1\nname: a\n\n[PENDING]\ncores: 8\ndelete: cores,name\n');
    expect(configValues(file.main)).toEqual({ cores: '8' });
    expect(file.pending).toBeNull();
  });

  it('makes an owned disk unusedN on a normal delete, lowest free index first', () => {
    const file = after(
      'scsi0: st:vm-100-disk-0\nscsi1: st:vm-100-disk-1\nunused1: st:vm-100-disk-7\n\n[PENDING]\ndelete: scsi0,scsi1\n',
    );
    expect(configValues(file.main)).toEqual({ unused0: 'st:vm-100-disk-0', unused1: 'st:vm-100-disk-7', unused2: 'st:vm-100-disk-1' });
  });

  it('just removes CD-ROMs, passthrough paths and other VMs volumes', () => {
    const file = after('ide2: local:iso/x.iso,media=cdrom\nscsi1: /dev/sdb\nscsi2: st:vm-555-disk-0\n\n[PENDING]\ndelete: ide2,scsi1,scsi2\n');
    expect(configValues(file.main)).toEqual({});
  });

  it('removes [special:cloudinit] with the cloud-init drive', () => {
    const file = after('ide2: st:vm-100-cloudinit,media=cdrom\n\n[PENDING]\ndelete: ide2\n\n[special:cloudinit]\nname: x\n');
    expect(file.special).toEqual([]);
    expect(file.raw).toBe('');
  });

  it('refuses a forced delete of an owned volume still used by a snapshot', () => {
    const text = 'scsi0: st:vm-100-disk-0,size=4G\n\n[PENDING]\ndelete: !scsi0\n\n[snap1]\nscsi0: st:vm-100-disk-0,size=4G\nsnaptime: 1\n';
    const { file, warnings } = applyPendingWithWarnings(conf(text));
    expect(configValues(file.main)).toEqual({ scsi0: 'st:vm-100-disk-0,size=4G' });
    expect(file.pending!.deletes).toEqual([{ key: 'scsi0', force: true }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toBe(
      "unable to apply pending change scsi0 : unable to delete 'st:vm-100-disk-0' - volume is still in use (snapshot?)",
    );
    expect(applyPending(conf(text)).issues).toEqual(warnings);
  });

  it('lets a forced delete through when the snapshot only has it as a CD, or the VM does not own it', () => {
    const cd = after('scsi0: st:vm-100-disk-0\n\n[PENDING]\ndelete: !scsi0\n\n[s]\nide2: st:vm-100-disk-0,media=cdrom\n');
    expect(configValues(cd.main)).toEqual({});
    const foreign = after('scsi0: st:vm-200-disk-0\n\n[PENDING]\ndelete: !scsi0\n\n[s]\nscsi0: st:vm-200-disk-0\n');
    expect(configValues(foreign.main)).toEqual({});
    // A forced delete never creates unusedN.
    expect(cd.raw).not.toContain('unused');
  });

  it('keeps an owned replaced volume as unusedN', () => {
    const file = after('scsi0: st:vm-100-disk-0,size=4G\n\n[PENDING]\nscsi0: st:vm-100-disk-1,size=8G\n');
    expect(configValues(file.main)).toEqual({ scsi0: 'st:vm-100-disk-1,size=8G', unused0: 'st:vm-100-disk-0' });
  });

  it('drops deletes of keys that are not set, and keeps an unusedN delete pending with a warning', () => {
    const { file, warnings } = applyPendingWithWarnings(conf('unused0: st:vm-100-disk-3\n\n[PENDING]\ndelete: tablet,unused0\n'));
    expect(file.pending!.deletes).toEqual([{ key: 'unused0', force: false }]);
    expect(warnings.map((w) => w.key)).toEqual(['unused0']);
  });

  it('moves a pending description to the main section', () => {
    const file = after('#old\ncores: 1\n\n[PENDING]\n#new text\n');
    expect(file.main.description).toBe('new text');
    expect(file.raw).toBe('#new text\ncores: 1\n');
  });
});
