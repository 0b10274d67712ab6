// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's load events: every VM is handed once (`onVm`) and its final risk announced once
 * (`onRisk`), whether its evidence came after its config or was already in, so no row stays
 * marked "without evidence" once its risk is final.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { PveClient } from '../../src/api/client.js';
import { loadFleetAudit } from '../../panel/data/fleet-audit.js';

const STORAGE = 'lvmthin: local-lvm\n\tvgname pve\n\tthinpool data\n\tcontent images\n';
let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({
    fleet: fleetFromConfigs(
      [100, 101, 102].map((vmid) => ({ vmid, text: `scsi0: local-lvm:vm-${vmid}-disk-0,size=8G\n`, node: 'pve1', status: 'running' as const })),
      { storageCfg: STORAGE, nodes: ['pve1'] },
    ),
    http: true,
    authDelayMs: 0,
    timeScale: 0,
  });
});
afterAll(() => sim?.close());

describe('loadFleetAudit', () => {
  it.each([
    ['the configs answer late (evidence in first)', '/nodes/*/qemu/*/pending'],
    ['the backup jobs answer late (configs first)', '/cluster/backup'],
  ])('hands every VM once and announces its final risk once when %s', async (_label, slow) => {
    sim.state.setFaults({ rules: [{ path: slow, kind: 'latency', latencyMs: 200 }] });
    const handed: number[] = [];
    const final: number[] = [];
    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, concurrency: 4 });
    await loadFleetAudit(client, { onVm: (r) => handed.push(r.vmid), onRisk: (r) => final.push(r.vmid) }).finally(() => sim.state.setFaults(undefined));
    expect(handed.sort()).toEqual([100, 101, 102]);
    expect(final.sort()).toEqual([100, 101, 102]);
  });
});
