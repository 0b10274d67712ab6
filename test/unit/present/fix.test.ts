// SPDX-License-Identifier: AGPL-3.0-or-later
/** Fix hints are data; the panel words them without CLI flags, the CLI keeps its `fix` text. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditFiles } from '../../../src/audit/index.js';
import { etcPveReader } from '../../../src/node/etc-pve.js';
import { panelFixText } from '../../../src/present/fix.js';

const TREES = ['examples/etc-pve', 'test/scenarios/offline-mixed/input/etc-pve'].map((p) => resolve(__dirname, '../../..', p));

describe('fix steps', () => {
  it('every reason of the sample trees carries steps, and the panel words them without a CLI flag', async () => {
    let reasons = 0;
    for (const tree of TREES) {
      const report = await auditFiles(etcPveReader(tree));
      for (const r of report.vms.flatMap((vm) => vm.risk?.reasons ?? [])) {
        reasons++;
        expect(r.steps.length, `${r.code} has no steps`).toBeGreaterThan(0);
        const text = panelFixText(r);
        expect(text, text).not.toMatch(/--[a-z]|qm |pve-dataplane/);
      }
    }
    expect(reasons).toBeGreaterThan(10);
  });

  it('iothread=1 on LSI: set the controller, then a cold start, as data', async () => {
    const report = await auditFiles(etcPveReader(TREES[0]!), { vmids: [100] });
    const r = report.vms[0]!.risk!.reasons.find((x) => x.code === 'IOTHREAD_IGNORED')!;
    expect(r.steps.slice(0, 2)).toEqual([{ action: 'set-scsihw', value: 'virtio-scsi-single' }, { action: 'cold-start' }]);
    expect(panelFixText(r)).toContain('Reboot the VM from PVE');
    // The CLI (and the JSON contract) keep their own words.
    expect(r.fix).toContain('scsihw: virtio-scsi-single');
  });
});
