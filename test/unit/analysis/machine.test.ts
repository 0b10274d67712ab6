// SPDX-License-Identifier: AGPL-3.0-or-later
/** Machine version resolution (docs/how-qemu-server-decides.md#reading-the-config, docs/how-qemu-server-decides.md#machine-version, docs/how-qemu-server-decides.md "M", docs/how-qemu-server-decides.md#machine-version) and version helpers. */
import { describe, expect, it } from 'vitest';
import { machineTypeOf, parseMachineType, resolveMachine, windowsVersion } from '../../../src/analysis/machine.js';
import { canRunMachine, compareVersions, formatMachineVersion, installedMachineVersion, machineAtLeast, parseVersion } from '../../../src/analysis/version.js';

const env = (v: [number, number, number] = [11, 0, 0], assumed = false) => ({ installedQemu: v, installedQemuAssumed: assumed });

describe('versions', () => {
  it('parses X.Y and X.Y.Z, nothing else', () => {
    expect(parseVersion('11.0')).toEqual([11, 0, 0]);
    expect(parseVersion('9.2.0')).toEqual([9, 2, 0]);
    expect(parseVersion(' 10.1.2 ')).toEqual([10, 1, 2]);
    for (const bad of ['11', '11.0.0.1', 'v11.0', '11.x', '']) expect(parseVersion(bad)).toBeNull();
    expect(compareVersions([9, 2, 0], [10, 0, 0])).toBeLessThan(0);
  });

  it('knows the PVE machine revisions of qemu-server 9.2.6', () => {
    expect(formatMachineVersion(installedMachineVersion([11, 0, 1]))).toBe('11.0+pve2');
    expect(formatMachineVersion(installedMachineVersion([10, 0, 2]))).toBe('10.0+pve1');
    expect(formatMachineVersion(installedMachineVersion([9, 2, 0]))).toBe('9.2+pve1');
    expect(formatMachineVersion(installedMachineVersion([10, 1, 0]))).toBe('10.1+pve0');
  });

  it('compares machine versions with the pve revision', () => {
    expect(machineAtLeast({ major: 4, minor: 1, pve: 2 }, 4, 1, 2)).toBe(true);
    expect(machineAtLeast({ major: 4, minor: 1, pve: 1 }, 4, 1, 2)).toBe(false);
    expect(machineAtLeast({ major: 5, minor: 0, pve: 0 }, 4, 1, 2)).toBe(true);
    expect(machineAtLeast({ major: 9, minor: 2, pve: 1 }, 10, 0)).toBe(false);
    expect(canRunMachine([11, 0, 0], { major: 4, minor: 1, pve: 2 })).toBe(true);
    expect(canRunMachine([11, 0, 0], { major: 11, minor: 1, pve: 0 })).toBe(false);
    expect(canRunMachine([11, 0, 0], { major: 11, minor: 0, pve: 3 })).toBe(false);
  });
});

describe('machine types', () => {
  it('parses every spelling of the machine type', () => {
    expect(parseMachineType('pc')).toEqual({ type: 'i440fx', version: null, pxe: false });
    expect(parseMachineType('pc-i440fx-8.1')).toEqual({ type: 'i440fx', version: { major: 8, minor: 1, pve: 0 }, pxe: false });
    expect(parseMachineType('pc-9.2+pve1')).toEqual({ type: 'i440fx', version: { major: 9, minor: 2, pve: 1 }, pxe: false });
    expect(parseMachineType('pc-q35-4.1+pve2.pxe')).toEqual({ type: 'q35', version: { major: 4, minor: 1, pve: 2 }, pxe: true });
    expect(parseMachineType('q35')?.type).toBe('q35');
    expect(parseMachineType('virt-9.2+pve1')).toEqual({ type: 'virt', version: { major: 9, minor: 2, pve: 1 }, pxe: false });
    expect(parseMachineType('pc-q35')).toBeNull();
    expect(machineTypeOf('q35,viommu=virtio')).toBe('q35');
    expect(machineTypeOf('viommu=intel,type=pc-q35-9.0')).toBe('pc-q35-9.0');
  });

  it('detects Windows ostypes', () => {
    expect(['wxp', 'w2k', 'w2k3', 'w2k8', 'wvista', 'win7', 'win10', 'win11', 'l26', 'other', undefined].map(windowsVersion)).toEqual([
      5, 5, 5, 6, 6, 7, 10, 11, 0, 0, 0,
    ]);
  });
});

describe('resolveMachine', () => {
  it('unpinned: the installed QEMU with its highest +pveN, -blockdev from 10.0', () => {
    const m = resolveMachine({}, env([11, 0, 0], true));
    expect([m.type, m.version, m.blockdev, m.basis]).toEqual(['i440fx', { major: 11, minor: 0, pve: 2 }, true, 'unpinned: installed QEMU 11.0 (assumed)']);
    const old = resolveMachine({ machine: 'q35' }, env([9, 2, 0]));
    expect([old.type, formatMachineVersion(old.version), old.blockdev]).toEqual(['q35', '9.2+pve1', false]);
  });

  it('pinned: the pinned version, +pve0 when written without', () => {
    const m = resolveMachine({ machine: 'pc-q35-8.1,viommu=virtio' }, env());
    expect([m.type, formatMachineVersion(m.version), m.blockdev, m.startError]).toEqual(['q35', '8.1+pve0', false, null]);
    expect(resolveMachine({ machine: 'pc-i440fx-10.0' }, env()).blockdev).toBe(true);
  });

  it("a pinned version newer than the installed QEMU cannot start, in qemu-server's words (cfg2cmd minimal-defaults-to-new-machine)", () => {
    expect(resolveMachine({ machine: 'pc-q35-42.9' }, env([9, 0, 0])).startError).toBe("Installed QEMU version '9.0.0' is too old to run machine type 'pc-q35-42.9+pve0'");
    expect(resolveMachine({ machine: 'pc-i440fx-11.2.pxe' }, env()).startError).toBe("Installed QEMU version '11.0.0' is too old to run machine type 'pc-i440fx-11.2+pve0.pxe'");
  });

  it('a +pveN above what qemu-server knows for that version cannot start (cfg2cmd minimal-defaults-unsupported-pve-version)', () => {
    expect(resolveMachine({ machine: 'pc-q35-9.0+pve77' }, env([9, 0, 0])).startError).toBe(
      "Installed qemu-server (max feature level for 9.0 is pve0) is too old to run machine type 'pc-q35-9.0+pve77'",
    );
  });

  it("a machine pinned with a revision runs on a newer QEMU whose own version has a lower one (Windows VMs pinned 9.2+pve1 or 10.0+pve1 on PVE 9's QEMU 10.1)", () => {
    // can_run_pve_machine_version compares the pin's +pveN with qemu-server's table for the pin's
    // major.minor, not with the revision of the installed binary's version (10.1 has none).
    for (const machine of ['pc-q35-9.2+pve1', 'pc-q35-10.0+pve1', 'pc-i440fx-4.1+pve2']) {
      const m = resolveMachine({ machine }, env([10, 1, 0]));
      expect([machine, m.startError]).toEqual([machine, null]);
    }
    expect(canRunMachine([10, 0, 2], { major: 4, minor: 1, pve: 2 })).toBe(true);
    expect(canRunMachine([10, 1, 0], { major: 10, minor: 0, pve: 2 })).toBe(false);
  });

  it('a running VM runs its running-machine, whatever the config says', () => {
    const m = resolveMachine({ machine: 'q35', runningMachine: 'pc-q35-9.2+pve1' }, env());
    expect([m.type, formatMachineVersion(m.version), m.blockdev]).toEqual(['q35', '9.2+pve1', false]);
  });

  it('unpinned Windows: 5.1, or creation-qemu when >= 9.1, keeping the q35 type', () => {
    const w = resolveMachine({ ostype: 'win10', machine: 'q35' }, env());
    expect([w.type, formatMachineVersion(w.version)]).toEqual(['q35', '5.1+pve0']);
    expect(formatMachineVersion(resolveMachine({ ostype: 'win11', meta: 'creation-qemu=9.0.2,ctime=1' }, env()).version)).toBe('5.1+pve0');
    expect(formatMachineVersion(resolveMachine({ ostype: 'win11', meta: 'creation-qemu=9.1.2,ctime=1' }, env()).version)).toBe('9.1+pve0');
    expect(resolveMachine({ ostype: 'win11', meta: 'ctime=1,creation-qemu=10.0.2' }, env()).blockdev).toBe(true);
    // Pinned Windows VMs keep their pin.
    expect(formatMachineVersion(resolveMachine({ ostype: 'win10', machine: 'pc-i440fx-8.1' }, env()).version)).toBe('8.1+pve0');
  });

  it('templates: default i440fx at the installed QEMU, machine and ostype ignored', () => {
    const t = resolveMachine({ template: '1', machine: 'pc-q35-5.2', ostype: 'win10' }, env());
    expect([t.type, formatMachineVersion(t.version), t.basis.startsWith('template')]).toEqual(['i440fx', '11.0+pve2', true]);
  });

  it('an invalid machine value is dropped by PVE: the default machine, with an issue', () => {
    const m = resolveMachine({ machine: 'pc-q35' }, env());
    expect([m.type, formatMachineVersion(m.version)]).toEqual(['i440fx', '11.0+pve2']);
    expect(m.issue).toContain('not a valid machine type');
  });

  it('aarch64 defaults to virt', () => {
    expect(resolveMachine({ arch: 'aarch64' }, env()).type).toBe('virt');
  });
});
