// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Disk facts that could not be determined (storage type unknown) in the risk: the aio part is
 * NOT_CHECKED where the unknown could make a rule fire, once per storage, naming the privilege;
 * never `ok`, never read as "no aio".
 */
import { describe, expect, it } from 'vitest';
import { analyzeVm } from '../../../src/audit/index.js';
import { assessRisk } from '../../../src/analysis/risk/index.js';
import type { AnalysisEnv, VmReport } from '../../../src/analysis/types.js';
import { ENV, vmInput } from '../analysis/helpers.js';
import { quietEvidence } from './build.js';

const WHY = 'not in /storage: the token lacks Datastore.Audit on /storage/ceph';
const HIDDEN: AnalysisEnv = { ...ENV, unreadableStorages: { ceph: WHY } };

function report(config: Record<string, string>, env: AnalysisEnv = HIDDEN, source = 'api:/nodes/pve1/qemu/100'): VmReport {
  return analyzeVm(vmInput(config, { source, runtime: { status: 'running' } }), env);
}

describe('risk of disks on a storage whose type is unknown', () => {
  it('an IO-thread disk with unset aio: NOT_CHECKED once for the storage (LVM/CIFS would make it native), naming the privilege', () => {
    const vm = report({
      scsihw: 'virtio-scsi-single',
      scsi0: 'ceph:vm-100-disk-0,iothread=1',
      scsi1: 'ceph:vm-100-disk-1,iothread=1',
    });
    const risk = assessRisk(vm, quietEvidence());
    expect(risk.level).toBe('unknown');
    expect(risk.reasons.map((r) => r.code)).toEqual(['NOT_CHECKED']);
    const nc = risk.reasons[0]!;
    expect(nc.message).toBe(
      `Could not check scsi0, scsi1 fully: the type of storage 'ceph' is unknown (${WHY}), and it decides whether aio=native runs next to an IO thread.`,
    );
    expect(nc.fix).toBe('Give the audit token Datastore.Audit on /storage/ceph (the PVEAuditor role has it), then audit again.');
    expect(risk.unavailable).toEqual([`/storage/ceph: storage 'ceph' type unknown: ${WHY} (used by scsi0, scsi1)`]);
  });

  it('the same VM on a storage we can see is checked: ok on lvmthin, the native hint on plain LVM', () => {
    const config = (storage: string) => ({ scsihw: 'virtio-scsi-single', scsi0: `${storage}:vm-100-disk-0,iothread=1` });
    expect(assessRisk(report(config('lvmthin')), quietEvidence()).level).toBe('ok');
    expect(assessRisk(report(config('lvm')), quietEvidence()).reasons.map((r) => r.code)).toEqual(['AIO_NATIVE_IOTHREAD']);
  });

  it('explicit aio=native with a non-direct cache: NOT_CHECKED (the VM may not start), not critical and not ok', () => {
    const vm = report({ scsi0: 'ceph:vm-100-disk-0,aio=native,cache=writeback' });
    const risk = assessRisk(vm, quietEvidence());
    expect(risk.reasons.some((r) => r.severity === 'critical')).toBe(false);
    const nc = risk.reasons.filter((r) => r.code === 'NOT_CHECKED');
    expect(nc).toHaveLength(1);
    expect(nc[0]!.message).toContain('whether aio=native meets a cache without O_DIRECT (then the VM does not start)');
    // The lsi controller warning is still given: it does not depend on the storage.
    expect(risk.level).toBe('warning');
    expect(risk.reasons.map((r) => r.code)).toContain('MAIN_LOOP_IO');
  });

  it('explicit aio=native with cache unset: O_DIRECT is unknown (btrfs), so the start check stays open', () => {
    const risk = assessRisk(report({ scsihw: 'virtio-scsi-single', scsi0: 'ceph:vm-100-disk-0,iothread=1,aio=native' }), quietEvidence());
    expect(risk.reasons.map((r) => r.code)).toEqual(['NOT_CHECKED']);
    expect(risk.reasons[0]!.message).toMatch(/decides whether aio=native meets a cache without O_DIRECT .* and whether aio=native runs next to an IO thread\.$/);
  });

  it('aio=threads: whatever the storage, aio is threads or none, so nothing is left open', () => {
    const risk = assessRisk(report({ scsihw: 'virtio-scsi-single', scsi0: 'ceph:vm-100-disk-0,iothread=1,aio=threads' }), quietEvidence());
    expect(risk).toEqual({ level: 'ok', reasons: [] });
  });

  it('offline without storage.cfg: the fix says to pass the storage.cfg', () => {
    const env: AnalysisEnv = { ...ENV, storages: new Map(), storageTypesUnknown: 'no storage.cfg given: pass --storage-cfg' };
    const vm = report({ virtio0: 'local-lvm:vm-100-disk-0,iothread=1' }, env, '/tmp/100.conf');
    const risk = assessRisk(vm, quietEvidence());
    const nc = risk.reasons.find((r) => r.code === 'NOT_CHECKED')!;
    expect(nc.evidence[0]).toEqual({
      kind: 'missing',
      label: 'storage.cfg',
      value: "storage 'local-lvm' type unknown: no storage.cfg given: pass --storage-cfg (used by virtio0)",
    });
    expect(nc.fix).toBe("Audit with the node's storage.cfg (--config-dir, or --storage-cfg).");
    expect(risk.reasons.some((r) => r.code === 'START_ERROR')).toBe(false);
  });

  it('a pending change onto the hidden storage reads "aio unknown", never "aio none"', () => {
    const vm = analyzeVm(
      vmInput(
        { scsihw: 'virtio-scsi-single', scsi0: 'lvmthin:vm-100-disk-0,iothread=1' },
        { pending: { scsi0: 'ceph:vm-100-disk-0,iothread=1' }, runtime: { status: 'running' }, source: 'api:/nodes/pve1/qemu/100' },
      ),
      HIDDEN,
    );
    const pending = assessRisk(vm, quietEvidence()).reasons.find((r) => r.code === 'PENDING_DATAPLANE')!;
    expect(pending.evidence[0]!.value).toBe(
      'now: controller virtio-scsi-pci, iothread on, aio io_uring, cache direct; after cold start: controller virtio-scsi-pci, iothread on, aio unknown, cache unknown',
    );
  });
});
