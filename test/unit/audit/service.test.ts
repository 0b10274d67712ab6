// SPDX-License-Identifier: AGPL-3.0-or-later
/** The audit service: one entry point for both audits, VM-by-VM progress, the JSON contract. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { PveClient, type Transport } from '../../../src/api/client.js';
import { nodeTransport } from '../../../src/node/http-transport.js';
import { type AuditVmEvent, type ConfigReader, UnknownNodeError, auditCluster, auditFiles, toAuditJson } from '../../../src/audit/index.js';
import { parseStorageCfg, parseVmConfig } from '../../../src/pve/index.js';

const STORAGE = 'lvmthin: local-lvm\n\tvgname pve\n\tthinpool data\n\tcontent images\n';
const CONFIGS: Record<number, string> = {
  100: 'scsi0: local-lvm:vm-100-disk-0,iothread=1,size=8G\n',
  101: 'scsihw: virtio-scsi-single\nscsi0: local-lvm:vm-101-disk-0,iothread=1,size=8G\n',
};

/** An in-memory reader: what a browser would hand the service for dropped files. */
function memoryReader(): ConfigReader {
  return {
    tree: true,
    label: 'memory',
    read: async (filter = {}) => ({
      vms: Object.entries(CONFIGS)
        .filter(([id]) => !filter.vmids || filter.vmids.has(Number(id)))
        .map(([id, text]) => ({ file: parseVmConfig(text, { vmid: Number(id), source: `${id}.conf` }), node: 'pve1' })),
      storages: parseStorageCfg(STORAGE).storages,
      storageIssues: [],
      errors: [],
    }),
  };
}

describe('auditFiles', () => {
  it('audits what any reader gives (no file system), reporting each VM as it is done', async () => {
    const seen: AuditVmEvent[] = [];
    const report = await auditFiles(memoryReader(), { qemuVersion: [10, 1, 0], onVm: (e) => seen.push(e) });
    expect(report.vms.map((v) => [v.vmid, v.disks[0]!.iothread.effective])).toEqual([[100, false], [101, true]]);
    expect(seen.map((e) => [e.vm.vmid, e.final])).toEqual([[100, true], [101, true]]);
    expect(report.assumptions.some((a) => a.includes('assumed'))).toBe(false);
  });

  it('reads a large tree once when every --vmid is in it (a second read only to name what is missing)', async () => {
    const reads: Array<ReadonlySet<number> | undefined> = [];
    const base = memoryReader();
    const counting: ConfigReader = { ...base, read: (filter = {}) => (reads.push(filter.vmids), base.read(filter)) };
    await auditFiles(counting, { vmids: [100] });
    expect(reads).toEqual([new Set([100])]);
    await auditFiles(counting, { vmids: [100, 999] });
    expect(reads).toEqual([new Set([100]), new Set([100, 999]), undefined]);
  });

  it('names a VMID that is not there, with the VMIDs that are', async () => {
    const report = await auditFiles(memoryReader(), { vmids: [100, 999] });
    expect(report.vms.map((v) => v.vmid)).toEqual([100]);
    expect(report.errors.map((e) => e.message)).toEqual(['VM 999 not found in memory (VMs there: 100, 101)']);
  });
});

describe('toAuditJson', () => {
  it('writes the documented fields only, not what the report was computed from', async () => {
    const json = toAuditJson(await auditFiles(memoryReader())) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['vms', 'assumptions', 'errors']);
  });
});

describe('auditCluster', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      fleet: fleetFromConfigs(
        Object.entries(CONFIGS).map(([id, text]) => ({ vmid: Number(id), text, node: 'pve1', status: 'running' as const })),
        { storageCfg: STORAGE, nodes: ['pve1'] },
      ),
      http: true,
      authDelayMs: 0,
      timeScale: 0,
    });
  });
  afterAll(() => sim.close());
  const client = () => new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.auditToken }, concurrency: 4 });

  it('reports each VM once with its final risk; one whose evidence is still out is shown first from its config alone', async () => {
    // The backup jobs are answered only once both VMs were reported (not a latency, which a loaded
    // machine can outrun): no VM's evidence is complete when its config is in.
    const http = nodeTransport();
    let bothReported!: () => void;
    const reported = new Promise<void>((r) => (bothReported = r));
    const transport: Transport = async (req) => {
      if (new URL(req.url).pathname.endsWith('/cluster/backup')) await reported;
      return http(req);
    };
    const events: Array<[number, boolean, boolean]> = [];
    const phases = new Set<string>();
    const report = await auditCluster(new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.auditToken }, concurrency: 4, transport }), {
      onVm: (e) => {
        events.push([e.vm.vmid, e.final, e.vm.risk!.reasons.some((r) => r.code === 'NOT_CHECKED')]);
        if (events.length === 2) bothReported();
      },
      onProgress: (p) => phases.add(p.phase),
    });
    expect(report.vms.map((v) => v.vmid)).toEqual([100, 101]);
    // Before its evidence a VM's online parts read "not collected"; after, they are checked.
    expect(events.filter(([, final]) => !final).map(([id, , open]) => [id, open]).sort()).toEqual([[100, true], [101, true]]);
    expect(events.filter(([, final]) => final).map(([id]) => id).sort()).toEqual([100, 101]);
    for (const id of [100, 101]) expect(events.filter(([v]) => v === id).map(([, final]) => final)).toEqual([false, true]);
    expect([...phases]).toEqual(['configs', 'evidence']);
    expect(report.permissions).not.toBeNull();
  });

  it('a VM whose evidence is in when its config arrives is reported once, final', async () => {
    // The configs answer late: the shared evidence is in first. Root's token reads the metrics
    // export, so no VM needs a request of its own.
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/*/pending', kind: 'latency', latencyMs: 300 }] });
    const events: AuditVmEvent[] = [];
    const root = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, concurrency: 4 });
    await auditCluster(root, { onVm: (e) => events.push(e) }).finally(() => sim.state.setFaults(undefined));
    expect(events.map((e) => [e.vm.vmid, e.final]).sort()).toEqual([[100, true], [101, true]]);
    expect(events.every((e) => !e.vm.risk!.reasons.some((r) => r.code === 'NOT_CHECKED'))).toBe(true);
  });

  it('without evidence says why in the risk, and reports each VM once', async () => {
    const events: AuditVmEvent[] = [];
    const report = await auditCluster(client(), { evidence: false, evidenceSkipped: 'skipped: --no-evidence', onVm: (e) => events.push(e) });
    expect(events.every((e) => e.final)).toBe(true);
    expect(report.vms[0]!.risk!.reasons.find((r) => r.code === 'NOT_CHECKED')!.message).toContain('skipped: --no-evidence');
  });

  it('a node that is not in the cluster is a typed error naming the nodes', async () => {
    await expect(auditCluster(client(), { node: 'pve9' })).rejects.toThrow(UnknownNodeError);
    await expect(auditCluster(client(), { node: 'pve9' })).rejects.toThrow(/nodes: pve1/);
  });
});
