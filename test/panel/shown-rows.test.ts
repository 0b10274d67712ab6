// SPDX-License-Identifier: AGPL-3.0-or-later
/** The rows a keystroke shows: what ShownRows reuses must never change what the filter shows. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_QUERY, type FleetQuery, type FleetRow, QUICK_FILTERS, SORT_KEYS, fleetRow, queryRows } from '../../panel/data/fleet-query.js';
import { ShownRows } from '../../panel/data/shown-rows.js';
import type { RiskLevel } from '../../src/analysis/types.js';
import { fleetAudit } from './fleet-fixture.js';

const audit = fleetAudit();
const inputs = new Map(audit.inputs.map((i) => [i.vmid, i]));
const NAMES = ['db1', 'db12', 'web', 'web-db', 'cache', null];
/** 240 rows: the fixture's VMs again and again, with other VMIDs and names. */
const rows: FleetRow[] = Array.from({ length: 240 }, (_, i) => {
  const vm = audit.report.vms[i % audit.report.vms.length]!;
  return fleetRow({ ...vm, vmid: 1000 + ((i * 37) % 240), name: NAMES[i % NAMES.length] ?? undefined } as typeof vm, inputs.get(vm.vmid));
});
const ids = (r: readonly FleetRow[]) => r.map((x) => x.vm.vmid);

const query = fc.record({
  text: fc.constantFrom('', 'd', 'db', 'db1', 'db12', 'DB', ' web', 'web-', '10', '101', '1012', 'x'),
  node: fc.constantFrom('', 'pve1', 'pve2'),
  risk: fc.constantFrom('', 'critical', 'ok') as fc.Arbitrary<FleetQuery['risk']>,
  quick: fc.subarray([...QUICK_FILTERS]),
  sort: fc.record({ key: fc.constantFrom(...SORT_KEYS), dir: fc.constantFrom('asc', 'desc') as fc.Arbitrary<'asc' | 'desc'> }),
  vm: fc.constant(null),
});

describe('ShownRows', () => {
  it('shows exactly what filtering and sorting every row anew shows, whatever the sequence of queries', () => {
    fc.assert(
      fc.property(fc.array(query, { minLength: 1, maxLength: 25 }), (qs) => {
        const shown = new ShownRows();
        for (const q of qs) expect(ids(shown.get(rows, 1, q))).toEqual(ids(queryRows(rows, q)));
      }),
    );
  });

  it('hands back the same array when only the open VM changed (the grid does not re-render)', () => {
    const shown = new ShownRows();
    const a = shown.get(rows, 1, { ...EMPTY_QUERY, text: 'db' });
    expect(shown.get(rows, 1, { ...EMPTY_QUERY, text: 'db ', vm: 1001 })).toBe(a);
  });

  it('sorts again when the rows changed in place (a risk reassessed by the evidence)', () => {
    const mine = rows.slice(0, 12).map((r) => ({ ...r, vm: { ...r.vm, risk: { ...r.vm.risk!, level: 'ok' as RiskLevel } } }));
    const shown = new ShownRows();
    const q: FleetQuery = { ...EMPTY_QUERY, sort: { key: 'risk', dir: 'asc' } };
    expect(shown.get(mine, 1, q)[0]!.vm.risk!.level).toBe('ok');
    mine[7]!.vm.risk = { ...mine[7]!.vm.risk!, level: 'critical' };
    expect(shown.get(mine, 1, q)[0]!.vm.risk!.level).toBe('ok');
    expect(shown.get(mine, 2, q)[0]!.vm.vmid).toBe(mine[7]!.vm.vmid);
  });
});
