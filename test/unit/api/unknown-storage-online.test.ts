// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Issue #3: "with less [than VM.Audit + Datastore.Audit], the affected facts are reported as unknown
 * with the missing privilege named, never guessed". The same simulated fleet audited with the
 * simulator's token without Datastore.Audit and with the admin token, VM by VM and disk by disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../api-shim/simulator/index.js';
import type { AuditReport, DiskReport } from '../../../src/analysis/types.js';
import { audit } from '../../../src/cli/commands/audit.js';

let sim: RunningSimulator;
let limited: AuditReport;
let full: AuditReport;

beforeAll(async () => {
  sim = await startSimulator({ vms: 40, seed: 3, authDelayMs: 0, timeScale: 0 });
  const base = { pve: sim.url, fingerprint: sim.fingerprint!, riskEvidence: false };
  [limited, full] = await Promise.all([audit({ ...base, token: sim.noDatastoreToken }), audit({ ...base, token: sim.token })]);
});
afterAll(() => sim?.close());

/** Every disk of the report by `vmid/key`. */
function disks(report: AuditReport): Map<string, DiskReport> {
  return new Map(report.vms.flatMap((vm) => vm.disks.map((d) => [`${vm.vmid}/${d.key}`, d] as const)));
}

describe('audit --pve with a token without Datastore.Audit', () => {
  it('audits the same VMs as the admin token, and no storage "does not exist"', () => {
    expect(limited.vms.map((v) => v.vmid)).toEqual(full.vms.map((v) => v.vmid));
    expect(limited.errors).toEqual([]);
    for (const d of disks(limited).values()) expect(d.startError ?? '').not.toContain('does not exist');
  });

  it('reports the storage-dependent facts as unknown naming Datastore.Audit on /storage/<id>; the admin token gets real values', () => {
    const mine = disks(limited);
    const theirs = disks(full);
    const realAio = new Set<string>();
    let unknownCount = 0;
    for (const [id, d] of mine) {
      const real = theirs.get(id)!;
      expect(real.unknown, id).toBeUndefined();
      // What does not depend on the storage is the same either way.
      expect([d.controller, d.controllerId, d.iothread], id).toEqual([real.controller, real.controllerId, real.iothread]);
      if (d.storage === null || d.volume === 'none') {
        expect(d.unknown, id).toBeUndefined();
        continue;
      }
      for (const u of d.unknown ?? []) {
        unknownCount++;
        expect(u.reason, id).toContain(`Datastore.Audit on /storage/${d.storage}`);
        if (u.field === 'aio') {
          expect(d.aio.effective, id).toBeNull();
          realAio.add(String(real.aio.effective));
        }
        if (u.field === 'cacheDirect') {
          expect(d.cacheDirect, id).toBeNull();
          expect(typeof real.cacheDirect, id).toBe('boolean');
        }
      }
      // A fact not listed as unknown is the real one, not a guess.
      if (!d.unknown?.some((u) => u.field === 'aio')) expect(d.aio.effective, id).toBe(real.aio.effective);
      if (!d.unknown?.some((u) => u.field === 'cacheDirect')) expect(d.cacheDirect, id).toBe(real.cacheDirect);
    }
    expect(unknownCount).toBeGreaterThan(20);
    // The admin token sees what the guess would have hidden: more than one effective aio.
    expect(realAio.size).toBeGreaterThan(1);
  });

  it('the risk never reads an unknown aio as fine: where the admin audit finds an aio=native reason, the limited one has NOT_CHECKED for that disk', () => {
    let compared = 0;
    for (const vm of full.vms) {
      const lim = limited.vms.find((v) => v.vmid === vm.vmid)!;
      for (const r of vm.risk!.reasons.filter((x) => x.code.startsWith('AIO_NATIVE'))) {
        const disk = lim.disks.find((d) => d.key === r.disk)!;
        if (!disk.unknown) continue;
        compared++;
        const open = lim.risk!.reasons.filter((x) => x.code === 'NOT_CHECKED' && x.evidence[0]!.label === `/storage/${disk.storage}`);
        expect(open.map((x) => x.message).join(' '), `${vm.vmid} ${r.code} ${r.disk}`).toContain(r.disk!);
        expect(open[0]!.fix).toContain(`Datastore.Audit on /storage/${disk.storage}`);
      }
    }
    expect(compared).toBeGreaterThan(0);
  });
});
