// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * End to end on the simulator: nodes with different pve-qemu-kvm packages (`simulate
 * --pve-qemu-version pve1=10.1.0-1,pve2=11.0.0-2`), the online audit reading them from
 * /nodes/{node}/apt/versions and the guest agent's get-osinfo, the offline audit of the same files
 * with --pve-qemu-version, and the planner's FreeBSD gate.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import type { AuditReport } from '../../../src/analysis/types.js';
import { PveClient } from '../../../src/api/client.js';
import { runCli } from '../../../src/cli/cli.js';
import { audit } from '../../../src/cli/commands/audit.js';
import { makePlan } from '../../../src/migration/online.js';
import { captureIO } from '../cli/capture.js';

const CONFIGS = [
  // pfSense by name, agent off: the heuristic.
  { vmid: 100, node: 'pve1', text: 'name: fw-pfsense\nostype: other\nscsihw: lsi\nscsi0: local-lvm:vm-100-disk-0,size=8G\n' },
  // No telling name, agent on: the simulator's agent says FreeBSD for ostype other.
  { vmid: 101, node: 'pve1', text: 'name: router\nostype: other\nagent: 1\nscsihw: virtio-scsi-pci\nscsi0: local-lvm:vm-101-disk-0,size=8G\n', guest: { agentRunning: true } },
  { vmid: 102, node: 'pve1', text: 'name: db1\nostype: l26\nscsihw: virtio-scsi-single\nscsi0: local-lvm:vm-102-disk-0,iothread=1,size=8G\n' },
  { vmid: 202, node: 'pve2', text: 'name: db2\nostype: l26\nscsihw: virtio-scsi-single\nscsi0: local-lvm:vm-202-disk-0,iothread=1,size=8G\n' },
  { vmid: 203, node: 'pve2', text: 'name: fw2-opnsense\nostype: other\nscsihw: lsi\nscsi0: local-lvm:vm-203-disk-0,size=8G\n' },
];

let sim: RunningSimulator;
let online: AuditReport;
let dir: string;

const codesOf = (r: AuditReport, vmid: number) => r.vms.find((v) => v.vmid === vmid)!.risk!.reasons.map((x) => x.code);

beforeAll(async () => {
  const fleet = fleetFromConfigs(
    CONFIGS.map((c) => ({ ...c, status: 'running' as const, runningQemu: c.node === 'pve1' ? '10.1.0' : '11.0.0' })),
    { nodes: ['pve1', 'pve2'] },
  );
  sim = await startSimulator({ fleet, http: true, authDelayMs: 0, timeScale: 0, pveQemuVersion: { pve1: '10.1.0-1', pve2: '11.0.0-2' } });
  online = await audit({ pve: sim.url, token: sim.token, riskEvidence: true });
  dir = await mkdtemp(join(tmpdir(), 'dp-pve-qemu-'));
  for (const c of CONFIGS) {
    await mkdir(join(dir, 'nodes', c.node, 'qemu-server'), { recursive: true });
    await writeFile(join(dir, 'nodes', c.node, 'qemu-server', `${c.vmid}.conf`), c.text);
  }
  await writeFile(join(dir, 'storage.cfg'), 'lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent images\n');
});
afterAll(async () => {
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('online audit: the node\'s pve-qemu-kvm from apt/versions', () => {
  it('io_uring disks on pve1 (10.1.0-1) get the stuck-request reason; the same VM on pve2 (11.0.0-2) does not', () => {
    expect(codesOf(online, 102)).toContain('PVE_QEMU_IO_URING_HANG');
    expect(codesOf(online, 202)).not.toContain('PVE_QEMU_IO_URING_HANG');
    const r = online.vms.find((v) => v.vmid === 102)!.risk!.reasons.find((x) => x.code === 'PVE_QEMU_IO_URING_HANG')!;
    expect(r.evidence.map((e) => e.value)).toContain('pve-qemu-kvm 10.1.0-1 (/nodes/pve1/apt/versions)');
  });

  it('a FreeBSD guest already on VirtIO SCSI on pve1 is flagged, recognised by the guest agent', () => {
    const r = online.vms.find((v) => v.vmid === 101)!.risk!.reasons.find((x) => x.code === 'PVE_QEMU_TMF_DEADLOCK');
    expect(r?.message).toMatch(/a FreeBSD guest \(guest agent: get-osinfo id=freebsd\)/);
  });

  it('a token without Sys.Audit: the version-aware part is NOT_CHECKED naming the privilege, never silently fine', async () => {
    const report = await audit({ pve: sim.url, token: sim.auditToken, riskEvidence: true });
    const nc = report.vms.find((v) => v.vmid === 102)!.risk!.reasons.filter((x) => x.code === 'NOT_CHECKED' && x.evidence[0]!.label.endsWith('/apt/versions'));
    expect(nc).toHaveLength(1);
    expect(nc[0]!.message).toMatch(/missing privilege Sys\.Audit on \/nodes\/pve1/);
    expect(codesOf(report, 102)).not.toContain('PVE_QEMU_IO_URING_HANG');
  });
});

describe('offline audit of the same files with --pve-qemu-version', () => {
  it('per node gives the same version-aware reasons as online (heuristic recognition only)', async () => {
    const io = captureIO();
    const code = await runCli(['audit', '--config-dir', dir, '--pve-qemu-version', 'pve1=10.1.0-1,pve2=11.0.0-2', '--format', 'json'], io);
    expect(code).toBe(0);
    const report = JSON.parse(io.out()) as AuditReport;
    expect(codesOf(report, 102)).toContain('PVE_QEMU_IO_URING_HANG');
    expect(codesOf(report, 202)).not.toContain('PVE_QEMU_IO_URING_HANG');
    // Offline there is no agent: 101 (named 'router') is not recognised; that is the heuristic's limit.
    expect(codesOf(report, 101)).not.toContain('PVE_QEMU_TMF_DEADLOCK');
  });

  it('without it, the part is not checked and the fix names the option; a bad value is refused by name', async () => {
    const io = captureIO();
    await runCli(['audit', '--config-dir', dir, '--format', 'json'], io);
    const vm = (JSON.parse(io.out()) as AuditReport).vms.find((v) => v.vmid === 102)!;
    expect(vm.risk!.reasons.find((x) => x.evidence[0]?.label === '/nodes/pve1/apt/versions')?.fix).toMatch(/--pve-qemu-version/);
    const bad = captureIO();
    expect(await runCli(['audit', '--config-dir', dir, '--pve-qemu-version', 'pve1=ten'], bad)).toBe(2);
    expect(bad.err()).toMatch(/--pve-qemu-version: pve1: 'ten' is not a pve-qemu-kvm version such as 10\.1\.2-4/);
  });
});

describe('plan: FreeBSD guests onto VirtIO SCSI', () => {
  const client = () => new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, retries: 0 });

  it('blocks moving a FreeBSD guest onto VirtIO SCSI on a node before 10.1.2-1, overridable; not on a fixed node', async () => {
    const { plan } = await makePlan(client(), { vmids: [100, 203] }, { aio: 'threads' }, { pve: sim.url });
    const on1 = plan.vms.find((v) => v.vmid === 100)!;
    expect(on1.eligible).toBe(false);
    expect(on1.blocked.map((g) => g.code)).toEqual(['PVE_QEMU_TMF_DEADLOCK']);
    expect(on1.blocked[0]!.message).toMatch(/heuristic: name 'fw-pfsense'.*pve-qemu-kvm 10\.1\.0-1/);
    expect(on1.blocked[0]!.override).toMatch(/--override PVE_QEMU_TMF_DEADLOCK/);
    expect(plan.vms.find((v) => v.vmid === 203)!.blocked).toEqual([]);

    const overridden = await makePlan(client(), { vmids: [100] }, { aio: 'threads', overrides: ['PVE_QEMU_TMF_DEADLOCK'] }, { pve: sim.url });
    expect(overridden.plan.vms[0]!.eligible).toBe(true);
    expect(overridden.plan.vms[0]!.warnings.map((g) => g.code)).toContain('PVE_QEMU_TMF_DEADLOCK');
  });
});

describe('simulate --pve-qemu-version', () => {
  it('serves the version per node in apt/versions, like PVE', async () => {
    const pkgs = await client().get<Array<{ Package: string; Version: string }>>('/nodes/pve2/apt/versions');
    expect(pkgs.find((p) => p.Package === 'pve-qemu-kvm')?.Version).toBe('11.0.0-2');
  });
  const client = () => new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, retries: 0 });
});

describe('simulate --pve-qemu-version (CLI options)', () => {
  it('one version for every node also sets the QEMU the nodes run; a value that is not a version is a usage error', async () => {
    const { startFromOptions } = await import('../../../src/cli/commands/simulate.js');
    const err: string[] = [];
    const { sim: s } = await startFromOptions({ port: 0, vms: 0, http: true, authDelayMs: 0, pveQemuVersion: '10.1.2-5' }, { stderr: (t) => void err.push(t) });
    try {
      expect(s.state.qemuVersion).toBe('10.1.2');
      expect(err.join('')).toContain('pve-qemu-kvm 10.1.2-5');
    } finally {
      await s.close();
    }
    await expect(startFromOptions({ port: 0, vms: 0, pveQemuVersion: 'pve1=latest' }, { stderr: () => {} })).rejects.toThrow(/--pve-qemu-version: 'pve1=latest' is not NODE=VERSION/);
  });
});
