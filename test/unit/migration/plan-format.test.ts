// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import { formatSummary, formatVmPlan } from '../../../src/migration/plan-format.js';
import { planVm } from '../../../src/migration/planner.js';
import { conf, vmFromText } from './helpers.js';

const converted = planVm(
  vmFromText(conf('boot: order=scsi0', 'ostype: l26', 'sata1: local-lvm:vm-100-disk-1,size=8G', 'scsi0: local-lvm:vm-100-disk-0,size=8G'), { status: 'stopped' }),
  { aio: 'threads', convertSata: true },
);

describe('plan text', () => {
  it('on a terminal: new values in orange, removals struck through', () => {
    const text = formatVmPlan(converted, { color: true });
    expect(text).toContain('\x1b[9mlocal-lvm:vm-100-disk-1,size=8G\x1b[0m');
    expect(text).toContain('\x1b[38;5;208mlocal-lvm:vm-100-disk-0,size=8G,iothread=1,aio=threads\x1b[0m');
  });

  it('in a pipe: no escape codes, removals spelled out, new values marked', () => {
    const text = formatVmPlan(converted, { color: false });
    expect(text).not.toContain('\x1b');
    expect(text).toContain('  sata1   local-lvm:vm-100-disk-1,size=8G  (removed)');
    expect(text).toContain('        → local-lvm:vm-100-disk-0,size=8G,iothread=1,aio=threads');
  });

  it('a VM whose change is already pending reads as such, not as "one write"', () => {
    const pending = planVm(
      vmFromText(
        conf(
          'boot: order=scsi0',
          'ostype: l26',
          'scsi0: local-lvm:vm-100-disk-0,size=8G',
          'scsihw: virtio-scsi-pci',
          '',
          '[PENDING]',
          'scsi0: local-lvm:vm-100-disk-0,size=8G,iothread=1,aio=threads',
          'scsihw: virtio-scsi-single',
        ),
      ),
      { aio: 'threads' },
    );
    expect(pending.changes.every((c) => c.alreadyPending)).toBe(true);
    const title = formatVmPlan(pending, { color: false }).split('\n')[0];
    expect(title).toBe('VM 100 (pve1, running)  already written (pending), cold start needed');
  });

  it('summary groups VMs by outcome, each with its reason, and names the journal', () => {
    const text = formatSummary(
      {
        run: 'r',
        counts: {},
        results: [
          { vmid: 102, node: 'pve1', result: 'failed', reason: 'shutdown timed out' },
          { vmid: 101, node: 'pve1', result: 'migrated' },
          { vmid: 103, node: null, result: 'pending-reboot', reason: 'cold start needed' },
        ],
      },
      { color: false, journal: '/j.jsonl' },
    );
    expect(text).toBe(
      'converted to VirtIO SCSI single: 1\n  101 (pve1)\nwritten, pending a cold start: 1\n  103: cold start needed\nfailed: 1\n  102 (pve1): shutdown timed out\n' +
        'next: re-run the same command with --reboot now to cold start the 1 VM pending reboot (API reboot: shutdown, then a fresh start)\n' +
        'journal: /j.jsonl\n',
    );
  });
});

describe('a VM on VirtIO SCSI (not single) whose only disks are SATA', () => {
  const sataOnly = planVm(
    vmFromText(conf('boot: order=sata0', 'ostype: l26', 'sata0: local-lvm:vm-100-disk-0,size=8G', 'scsihw: virtio-scsi-pci'), { status: 'stopped' }),
    { aio: 'threads' },
  );

  it('says what is true: SATA disks cannot get an IO thread, --convert-sata moves data disks; not "already done"', async () => {
    const { formatPlan } = await import('../../../src/migration/plan-format.js');
    const text = formatVmPlan(sataOnly, { color: false });
    expect(text).toContain('nothing this plan changes: SATA/IDE disks cannot get an IO thread (--convert-sata / --convert-ide moves data disks to SCSI)');
    expect(text).not.toContain('nothing to do');
    const total = formatPlan({ version: 1, aio: 'threads', createdAt: '', options: { aio: 'threads' }, vms: [sataOnly] }, { color: false });
    expect(total).toContain('0 already done, 1 left on SATA/IDE (no IO thread possible; see --convert-sata)');
  });
});
