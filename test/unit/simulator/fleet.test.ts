// SPDX-License-Identifier: AGPL-3.0-or-later
/** Generated fleets: deterministic from the seed, realistic mix, every config readable by PVE's rules. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fleetFromConfigs, generateFleet } from '../../../api-shim/simulator/index.js';
import { parseStorageCfg, parseVmConfig, sectionDrives } from '../../../src/pve/index.js';

const fleet = generateFleet({ vms: 400, seed: 1 });
const parsed = fleet.vms.map((v) => ({ vm: v, file: parseVmConfig(v.config, { vmid: v.vmid }) }));
const main = (f: (typeof parsed)[number]) => Object.fromEntries([...f.file.main.entries].map(([k, e]) => [k, e.value]));

describe('generateFleet', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(generateFleet({ vms: 400, seed: 1 })).toEqual(fleet);
    const other = generateFleet({ vms: 400, seed: 2 });
    expect(other.vms.map((v) => v.config)).not.toEqual(fleet.vms.map((v) => v.config));
  });

  it('spreads VMs over 3 nodes', () => {
    expect(fleet.nodes.map((n) => n.name)).toEqual(['pve1', 'pve2', 'pve3']);
    for (const n of fleet.nodes) expect(fleet.vms.filter((v) => v.node === n.name).length).toBeGreaterThan(80);
  });

  it('has every controller kind, Linux and pinned Windows VMs, sata/ide boot disks', () => {
    const values = parsed.map(main);
    const scsihw = new Set(values.map((v) => v.scsihw ?? '(absent = lsi)'));
    for (const c of ['(absent = lsi)', 'virtio-scsi-pci', 'virtio-scsi-single', 'megasas', 'pvscsi']) expect(scsihw).toContain(c);
    const windows = values.filter((v) => /^win/.test(v.ostype ?? ''));
    expect(windows.length).toBeGreaterThan(40);
    expect(windows.some((v) => /^pc-(q35|i440fx)-\d+\.\d+$/.test(v.machine ?? ''))).toBe(true);
    expect(windows.some((v) => /^order=sata0/.test(v.boot ?? ''))).toBe(true);
    expect(windows.some((v) => /^order=ide0/.test(v.boot ?? ''))).toBe(true);
    expect(values.some((v) => v.ostype === 'l26' && /^local-lvm|^ceph/.test(v.virtio0 ?? ''))).toBe(true);
    // iothread that QEMU ignores (virtio-scsi-pci) and already migrated VMs.
    expect(values.some((v) => v.scsihw === 'virtio-scsi-pci' && /iothread=1/.test(v.scsi0 ?? ''))).toBe(true);
    expect(values.some((v) => v.scsihw === 'virtio-scsi-single' && /aio=threads/.test(v.scsi0 ?? '') && /iothread=1/.test(v.scsi0 ?? ''))).toBe(true);
  });

  it('uses every storage type, krbd and librbd, on nodes where the storage exists', () => {
    const storages = parseStorageCfg(fleet.storageCfg).storages;
    const types = new Set<string>();
    for (const { vm, file } of parsed) {
      for (const d of sectionDrives(file)) {
        if (!d.storage) continue;
        const s = storages.get(d.storage);
        expect(s, `${vm.vmid} ${d.key}: storage ${d.storage}`).toBeDefined();
        if (s!.props.nodes) expect(s!.props.nodes.split(',')).toContain(vm.node);
        types.add(s!.type === 'rbd' ? `rbd${s!.props.krbd === '1' ? '+krbd' : ''}` : s!.type);
      }
    }
    for (const t of ['dir', 'lvm', 'lvmthin', 'rbd', 'rbd+krbd', 'cifs', 'nfs', 'btrfs', 'zfspool']) expect(types).toContain(t);
  });

  it('has cdroms, cloud-init, templates, snapshots, pending changes, locks, HA and IO-stressed VMs', () => {
    const texts = fleet.vms.map((v) => v.config);
    expect(texts.some((t) => /media=cdrom/.test(t))).toBe(true);
    expect(texts.some((t) => /vm-\d+-cloudinit/.test(t))).toBe(true);
    expect(texts.some((t) => /^template: 1$/m.test(t))).toBe(true);
    expect(parsed.some((p) => p.file.snapshots.length > 0)).toBe(true);
    expect(parsed.some((p) => p.file.pending !== null && p.vm.status === 'running')).toBe(true);
    expect(texts.some((t) => /^lock: backup$/m.test(t))).toBe(true);
    expect(fleet.vms.some((v) => v.ha)).toBe(true);
    expect(fleet.vms.some((v) => v.ioStress)).toBe(true);
    expect(fleet.vms.some((v) => v.guest?.ignoresAcpi)).toBe(true);
    expect(fleet.backupJobs.some((j) => j.fleecing?.startsWith('enabled=1'))).toBe(true);
  });

  it('writes configs PVE reads without errors (a few hand-edited ones are unsorted)', () => {
    for (const { vm, file } of parsed) {
      expect(file.issues.filter((i) => i.severity === 'error'), `VM ${vm.vmid}`).toEqual([]);
      for (const d of sectionDrives(file)) expect(d.issues.filter((i) => i.severity === 'error'), `VM ${vm.vmid} ${d.key}`).toEqual([]);
    }
    expect(fleet.vms.some((v) => /iothread=on/.test(v.config))).toBe(true);
  });
});

describe('fleetFromConfigs', () => {
  it('keeps the texts byte for byte and spreads them round-robin', () => {
    const texts = ['name: a\nscsi0: local-lvm:vm-500-disk-0,size=1G\n', 'name: b\n', 'name: c\n'];
    const f = fleetFromConfigs(texts.map((text, i) => ({ vmid: 500 + i, text })));
    expect(f.vms.map((v) => v.config)).toEqual(texts);
    expect(f.vms.map((v) => v.node)).toEqual(['pve1', 'pve2', 'pve3']);
    expect(parseVmConfig(f.vms[0]!.config).digest).toBe(createHash('sha1').update(texts[0]!).digest('hex'));
  });

  it('names the problem with a duplicate VMID or an unknown node', () => {
    expect(() => fleetFromConfigs([{ vmid: 1, text: '' }, { vmid: 1, text: '' }])).toThrow(/VMID 1 given twice/);
    expect(() => fleetFromConfigs([{ vmid: 1, text: '', node: 'x' }])).toThrow(/node 'x'/);
  });
});
