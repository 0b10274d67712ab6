// SPDX-License-Identifier: AGPL-3.0-or-later
/** What the fleet table shows for a query, what the URL holds, what an export writes, what the plan preview says. */
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/present/csv.js';
import { exportShown } from '../../panel/data/export.js';
import { EMPTY_QUERY, type FleetQuery, fleetRow, queryRows } from '../../panel/data/fleet-query.js';
import { groupByState, nothingToChange, planSelected, vmPlanState } from '../../panel/data/plan.js';
import { paramsWithQuery, queryFromParams } from '../../panel/data/url-state.js';
import { fleetAudit } from './fleet-fixture.js';
import { buildAuditReport, vmInputFromFile } from '../../src/audit/index.js';
import { parseVmConfig } from '../../src/pve/vm-config-parse.js';

const audit = fleetAudit();
const inputs = new Map(audit.inputs.map((i) => [i.vmid, i]));
const rows = audit.report.vms.map((vm) => fleetRow(vm, inputs.get(vm.vmid)));
const ids = (q: Partial<FleetQuery>) => queryRows(rows, { ...EMPTY_QUERY, ...q }).map((r) => r.vm.vmid);

describe('fleet query', () => {
  it('filters by text (VMID or name), node, risk and quick filters together', () => {
    expect(ids({ text: 'WEB' })).toEqual([102]);
    expect(ids({ text: '10' })).toEqual([100, 101, 102, 103, 104, 105]);
    expect(ids({ node: 'pve2' })).toEqual([102, 103, 105]);
    expect(ids({ quick: ['cold-start'] })).toEqual([102]);
    expect(ids({ quick: ['iothread-ignored'] })).toEqual([100]);
    expect(ids({ quick: ['templates'] })).toEqual([104]);
    expect(ids({ quick: ['templates'], node: 'pve2' })).toEqual([]);
  });

  it('sorts risk worst first, ties by VMID, and reverses', () => {
    const rank = ['critical', 'warning', 'info', 'ok', 'unknown'];
    const levels = queryRows(rows, { ...EMPTY_QUERY, sort: { key: 'risk', dir: 'asc' } }).map((r) => rank.indexOf(r.vm.risk!.level));
    expect(levels).toEqual([...levels].sort((a, b) => a - b));
    expect(ids({ sort: { key: 'name', dir: 'desc' } })).toEqual([104, 103, 102, 105, 101, 100].sort((a, b) => {
      const name = (id: number) => audit.report.vms.find((v) => v.vmid === id)!.name!;
      return name(b).localeCompare(name(a));
    }));
  });

  it('a pending change of another key (not ours) still needs a cold start', () => {
    const input = { ...inputs.get(101)!, pending: { memory: '8192' } };
    const row = fleetRow(audit.report.vms.find((v) => v.vmid === 101)!, input);
    expect(row.pendingKeys).toEqual(['memory']);
    expect(row.oursPending).toBe(false);
  });
});

describe('query in the URL', () => {
  it('round-trips every field and leaves other parameters alone', () => {
    const q: FleetQuery = { text: 'db 1', node: 'pve1', risk: 'critical', quick: ['cold-start', 'templates'], sort: { key: 'risk', dir: 'desc' }, vm: 100 };
    const params = paramsWithQuery(new URLSearchParams('console=kvm'), q);
    expect(params.get('console')).toBe('kvm');
    expect(queryFromParams(params)).toEqual(q);
  });

  it('drops defaults and ignores garbage', () => {
    expect(paramsWithQuery(new URLSearchParams(), EMPTY_QUERY).toString()).toBe('');
    expect(queryFromParams(new URLSearchParams('dp-risk=evil&dp-only=x,templates&dp-sort=-nope&dp-vm=1e3'))).toEqual({ ...EMPTY_QUERY, quick: ['templates'] });
  });
});

describe('export of the shown VMs', () => {
  it('CSV has the CLI columns and only the shown VMs, in the shown order', () => {
    const shown = queryRows(rows, { ...EMPTY_QUERY, node: 'pve2', sort: { key: 'vmid', dir: 'desc' } }).map((r) => r.vm);
    const { text, filename } = exportShown(shown, audit.report, 'csv', new Date('2026-12-08T10:00:00Z'));
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['105', '103', '102']);
    expect(filename).toBe('pve-dataplane-audit-2026-12-08T10-00-00.csv');
  });

  it('JSON is the CLI report shape with only the shown VMs', () => {
    const { text } = exportShown([audit.report.vms[0]!], audit.report, 'json');
    const json = JSON.parse(text) as { vms: { vmid: number }[]; assumptions: string[] };
    expect(json.vms.map((v) => v.vmid)).toEqual([100]);
  });
});

describe('plan preview states', () => {
  const plan = planSelected(audit, new Set([100, 101, 102, 104, 105]));
  const state = (id: number) => vmPlanState(plan.vms.find((v) => v.vmid === id)!);

  it('a running VM whose change is already pending is "written", not offered a second write', () => {
    expect(state(102)).toBe('written');
    expect(plan.vms.find((v) => v.vmid === 102)!.steps.some((s) => s.kind === 'write')).toBe(false);
    expect(state(100)).toBe('write');
    expect(state(104)).toBe('blocked');
    expect(groupByState(plan).written.map((v) => v.vmid)).toEqual([102]);
  });

  it('VirtIO SCSI (not single) with only a SATA disk does not read "already on virtio-scsi-single"', () => {
    const vm = plan.vms.find((v) => v.vmid === 105)!;
    expect(vmPlanState(vm)).toBe('nothing');
    const text = nothingToChange(vm, audit.report.vms.find((v) => v.vmid === 105), plan.aio);
    expect(text).not.toMatch(/virtio-scsi-single|VirtIO SCSI single/);
    expect(text).toContain('sata0 is on SATA');
    expect(text).toContain('SCSI Controller stays VirtIO SCSI');
  });

  it('a VM already on the target says so in PVE\'s words', () => {
    const text = nothingToChange(plan.vms.find((v) => v.vmid === 101)!, audit.report.vms.find((v) => v.vmid === 101), plan.aio);
    expect(text).toBe('Nothing to change: SCSI Controller is VirtIO SCSI single; scsi0 already runs with IO thread and Async IO threads.');
  });
});

describe('plan preview gates', () => {
  it('blocks a FreeBSD guest moving to VirtIO SCSI on a node whose pve-qemu-kvm deadlocks, as the CLI plan does (issue #12; the preview had no evidence)', () => {
    const base = fleetAudit([100]);
    const input = vmInputFromFile(parseVmConfig('name: pfsense\nostype: other\nscsi0: local-lvm:vm-300-disk-0,size=8G\n', { vmid: 300, source: '300.conf' }), 'pve1');
    input.runtime = { status: 'stopped' };
    const env = { ...base.env, pveQemuByNode: { pve1: { version: '10.0.2-4', source: '/nodes/pve1/apt/versions' } } };
    const audit = { ...base, env, inputs: [input], report: buildAuditReport([input], env) };
    const vm = planSelected(audit, new Set([300])).vms[0]!;
    expect(vm.blocked.map((g) => g.code)).toContain('PVE_QEMU_TMF_DEADLOCK');
    // Updated node: no gate.
    const fixed = { ...audit, env: { ...env, pveQemuByNode: { pve1: { version: '10.1.2-4', source: '/nodes/pve1/apt/versions' } } } };
    expect(planSelected(fixed, new Set([300])).vms[0]!.blocked.map((g) => g.code)).not.toContain('PVE_QEMU_TMF_DEADLOCK');
  });
});
