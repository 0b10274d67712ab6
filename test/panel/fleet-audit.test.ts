// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's load events: every VM is handed once (`onVm`) and its final risk announced once
 * (`onRisk`), whether its evidence came after its config or was already in, so no row stays
 * marked "without evidence" once its risk is final.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { PveClient, type Transport } from '../../src/api/client.js';
import { nodeTransport } from '../../src/node/http-transport.js';
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

  it('reads the heavy risk evidence (metrics export, per-VM requests) only once every config is in', async () => {
    // One config answers late: the evidence must still wait for it.
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/102/pending', kind: 'latency', latencyMs: 150 }] });
    const log: { path: string; sent: number; answered: number }[] = [];
    const inner = nodeTransport();
    const transport: Transport = async (req) => {
      const entry = { path: new URL(req.url).pathname.replace('/api2/json', ''), sent: performance.now(), answered: Infinity };
      log.push(entry);
      const res = await inner(req);
      entry.answered = performance.now();
      return res;
    };
    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, concurrency: 4, transport });
    const audit = await loadFleetAudit(client).finally(() => sim.state.setFaults(undefined));
    const lastConfig = Math.max(...log.filter((e) => e.path.endsWith('/pending')).map((e) => e.answered));
    const evidence = log.filter((e) => /\/cluster\/metrics\/export|\/qemu\/\d+\/(snapshot|rrddata|agent\/)/.test(e.path));
    expect(evidence.map((e) => e.path)).toContain('/cluster/metrics/export');
    for (const e of evidence) expect(e.sent, e.path).toBeGreaterThanOrEqual(lastConfig);
    // And the evidence is used: the risks are final.
    expect(audit.report.vms.map((v) => v.vmid)).toEqual([100, 101, 102]);
  });
});
