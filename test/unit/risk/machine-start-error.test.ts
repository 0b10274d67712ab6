// SPDX-License-Identifier: AGPL-3.0-or-later
// A machine type the node cannot run (a pin newer than its QEMU, or a +pveN revision its
// qemu-server does not know) stops qemu-server's vm_start: the VM's risk is a critical
// START_ERROR, and the migration engine's pre-reboot check (nextStartFailures) refuses to
// restart the VM into it.
import { describe, expect, it } from 'vitest';
import { buildAuditReport, vmInputFromFile } from '../../../src/audit/index.js';
import { nextStartFailures } from '../../../src/analysis/risk/index.js';
import { parseStorageCfg } from '../../../src/pve/storage-cfg.js';
import { parseVmConfig } from '../../../src/pve/vm-config-parse.js';

const STORAGE = 'lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent images,rootdir\n';

function report(lines: string[], runtime?: { status: string; runningMachine?: string }) {
  const text = ['name: app1', 'ostype: l26', 'scsihw: virtio-scsi-single', 'scsi0: local-lvm:vm-100-disk-0,iothread=1,aio=threads,size=8G', ...lines, ''].join('\n');
  const input = vmInputFromFile(parseVmConfig(text, { vmid: 100, source: '100.conf' }), 'pve1');
  if (runtime) input.runtime = runtime;
  return buildAuditReport([input], { storages: parseStorageCfg(STORAGE).storages, installedQemu: [10, 1, 2], installedQemuAssumed: false }).vms[0]!;
}

describe('a machine type the node cannot run', () => {
  it('a stopped VM pinned newer than the node’s QEMU: critical START_ERROR in qemu-server’s words, and no reboot into it', () => {
    const vm = report(['machine: pc-q35-11.0'], { status: 'stopped' });
    expect(vm.risk!.level).toBe('critical');
    const r = vm.risk!.reasons.find((x) => x.code === 'START_ERROR')!;
    expect(r.message).toBe("machine: Installed QEMU version '10.1.2' is too old to run machine type 'pc-q35-11.0+pve0', so the VM will not start.");
    expect(r.steps).toEqual([{ action: 'correct-config', key: 'machine' }]);
    expect(nextStartFailures(vm).map((f) => f.message)).toEqual([r.message]);
  });

  it('a running VM whose pending machine pin the node cannot run: its next cold start fails', () => {
    const vm = report(['', '[PENDING]', 'machine: pc-i440fx-10.1+pve9'], { status: 'running', runningMachine: 'pc-i440fx-10.1+pve0' });
    const r = vm.risk!.reasons.find((x) => x.code === 'START_ERROR')!;
    expect(r.message).toMatch(/^machine: Installed qemu-server \(max feature level for 10\.1 is pve\d+\) is too old to run machine type 'pc-i440fx-10\.1\+pve9', so the next cold start of the VM will fail\.$/);
    expect(nextStartFailures(vm)).toHaveLength(1);
  });

  it('a pin the node runs (an older version with its own +pveN) is no start error', () => {
    const vm = report(['machine: pc-q35-9.2+pve1']);
    expect(vm.machine.startError).toBeUndefined();
    expect(vm.risk!.reasons.map((x) => x.code)).not.toContain('START_ERROR');
    expect(nextStartFailures(vm)).toEqual([]);
  });
});
