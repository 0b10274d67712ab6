// SPDX-License-Identifier: AGPL-3.0-or-later
/** `source` of a VM in the audit JSON: exactly `api` online, the file path offline (the AuditReport contract, src/analysis/types.ts). */
import { describe, expect, it } from 'vitest';
import { analyzeVm } from '../../../src/audit/index.js';
import { ENV, vmInput } from './helpers.js';

describe('VmReport.source', () => {
  it('is exactly "api" for a VM read from the API, while its issues still name the API path', () => {
    const vm = analyzeVm(vmInput({ scsi0: 'nosuch:vm-100-disk-0' }, { source: 'api:/nodes/pve1/qemu/100' }), ENV);
    expect(vm.source).toBe('api');
    expect(vm.issues.length).toBeGreaterThan(0);
    expect(vm.issues.every((i) => i.source === 'api:/nodes/pve1/qemu/100')).toBe(true);
  });

  it('is the config file path offline', () => {
    const vm = analyzeVm(vmInput({ scsi0: 'local:100/vm-100-disk-0.raw' }, { source: '/tmp/etc-pve/qemu-server/100.conf' }), ENV);
    expect(vm.source).toBe('/tmp/etc-pve/qemu-server/100.conf');
  });
});
