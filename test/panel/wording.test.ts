// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * "Migrated" reads like a live migration (a VM moved to another node) to a PVE admin. What the
 * panel and the PVE-UI tab say of the change to VirtIO SCSI single + IO thread never uses the word.
 */
import { describe, expect, it } from 'vitest';
import { planSelected, nothingToChange } from '../../panel/data/plan.js';
import { OUTCOME_LABEL } from '../../panel/strings.js';
import { buildAuditReport, vmInputFromFile } from '../../src/audit/index.js';
import { parseVmConfig } from '../../src/pve/vm-config-parse.js';
import { fleetAudit } from './fleet-fixture.js';

const MIGRATE = /migrat/i;

describe('wording of the change', () => {
  it('an apply result inside the PVE UI reads "Converted to VirtIO SCSI single", not "Migrated"', () => {
    expect(OUTCOME_LABEL.migrated).toBe('Converted to VirtIO SCSI single');
    for (const label of Object.values(OUTCOME_LABEL)) expect(label).not.toMatch(MIGRATE);
  });

  it('the plan preview of a VM whose disks are all on SATA says what the change leaves alone without "migration"', () => {
    const audit = fleetAudit([105]);
    const plan = planSelected(audit, new Set([105]));
    const text = nothingToChange(plan.vms[0]!, audit.report.vms[0], 'threads');
    expect(text).toContain('pve-dataplane leaves SATA disks alone');
    expect(text).not.toMatch(MIGRATE);
  });

  it('a template is blocked with a fix that says "convert the clones", not "migrate the clones"', () => {
    const base = fleetAudit([100]);
    const input = vmInputFromFile(parseVmConfig('name: tmpl\nostype: l26\ntemplate: 1\nscsi0: local-lvm:base-200-disk-0,size=8G\n', { vmid: 200, source: '200.conf' }), 'pve1');
    input.runtime = { status: 'stopped' };
    const audit = { ...base, inputs: [input], report: buildAuditReport([input], base.env) };
    const gate = planSelected(audit, new Set([200])).vms[0]!.blocked.find((g) => g.code === 'VM_TEMPLATE')!;
    expect(gate.fix).toContain('convert the clones');
    expect(`${gate.message} ${gate.fix}`).not.toMatch(MIGRATE);
  });
});
