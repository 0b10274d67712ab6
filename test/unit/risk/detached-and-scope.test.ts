// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A disk PVE drops (malformed drive line) is not given to QEMU: no iothread rule may talk about
 * its controller. NOT_CHECKED reasons say which part was not checked (the config's facts, or
 * evidence beyond the config), so the table can tell "config fine, evidence missing" apart.
 */
import { describe, expect, it } from 'vitest';
import { analyzeVm } from '../../../src/audit/index.js';
import { assessRisk } from '../../../src/analysis/risk/index.js';
import { OFFLINE } from '../../../src/analysis/risk/types.js';
import { ENV, vmInput } from '../analysis/helpers.js';
import { quietEvidence, singleIothread, vm } from './build.js';

describe('a drive line PVE drops', () => {
  it('gives no IOTHREAD_IGNORED on virtio-scsi-single (the disk has no controller at all)', () => {
    const report = analyzeVm(
      vmInput({ scsihw: 'virtio-scsi-single', scsi0: 'local:100/vm-100-disk-0.raw,iothread=1,aio=banana', scsi1: 'local:100/vm-100-disk-1.raw,iothread=1' }),
      ENV,
    );
    expect(report.disks[0]!.qemuDevice).toBeNull();
    const risk = assessRisk(report, quietEvidence());
    expect(risk.reasons.filter((r) => r.code === 'IOTHREAD_IGNORED')).toEqual([]);
  });
});

describe('NOT_CHECKED scope', () => {
  it('is "evidence" for facts only a running cluster gives, with the check named', () => {
    const migrated = vm([singleIothread('scsi0')], { status: 'unknown', scsihw: { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' } });
    const risk = assessRisk(migrated, quietEvidence({ qmpTimeouts: OFFLINE, nodeCpu: OFFLINE }));
    const nc = risk.reasons.filter((r) => r.code === 'NOT_CHECKED');
    expect(nc.map((r) => [r.scope, r.check])).toEqual([
      ['evidence', "QMP timeouts in the node's syslog"],
      ['evidence', 'vCPU overcommit on the node'],
    ]);
  });

  it('is "config" where a disk fact of the config itself is open (storage type unknown)', () => {
    const report = analyzeVm(vmInput({ scsihw: 'virtio-scsi-single', scsi0: 'hidden:vm-100-disk-0,iothread=1' }), {
      ...ENV,
      unreadableStorages: { hidden: 'missing privilege Datastore.Audit on /storage/hidden' },
    });
    const risk = assessRisk(report, quietEvidence());
    const nc = risk.reasons.filter((r) => r.code === 'NOT_CHECKED');
    expect(nc.length).toBeGreaterThan(0);
    expect(nc.every((r) => r.scope === 'config')).toBe(true);
  });
});
