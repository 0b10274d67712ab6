// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Scenario runner: one directory per scenario, `test/scenarios/<name>/` with
 *
 *   README.md         what the scenario shows and why each VM gets its level
 *   input/scenario.json  how to run it (below), plus the config tree it names
 *   expected.json     the golden summary: level, reasons and unchecked parts per VM
 *
 * `scenario.json`:
 *   {"kind": "offline", "configDir": "etc-pve"}           the offline audit of a copy of /etc/pve
 *   {"kind": "simulator", "configDir": "...", "vms": {...}, "nodes": [...], "backupJobs": [...],
 *    "token": "auditToken"}                               those configs served by the PVE simulator
 *   {"kind": "simulator", "generate": {"vms": 30, "seed": 1}}   a seeded simulated fleet
 * Paths are relative to `input/`. Online scenarios run the CLI's `audit --pve` (with risk evidence)
 * against the simulator over HTTPS, exactly as a user would.
 *
 * The summary leaves out measured figures (rates, counts) so that goldens pin levels and reasons,
 * which are what a user acts on.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fleetFromConfigs, generateFleet, startSimulator } from '../../api-shim/simulator/index.js';
import type { BackupJob, FleetData, FleetNode, FleetVm } from '../../api-shim/simulator/types.js';
import type { AuditReport, RiskLevel } from '../../src/analysis/types.js';
import { audit } from '../../src/cli/commands/audit.js';

type TokenName = 'token' | 'auditToken' | 'noDatastoreToken' | 'operatorToken';

export interface ScenarioSpec {
  kind: 'offline' | 'simulator';
  /** Config tree laid out like /etc/pve (storage.cfg, nodes/<node>/qemu-server/<vmid>.conf). */
  configDir?: string;
  /** Installed QEMU for the analysis. */
  qemuVersion?: string;
  /** Simulator: a generated fleet instead of a config tree. */
  generate?: { vms: number; seed: number; nodes?: number };
  /** Simulator: which of its tokens the audit uses (default `token`, root's privileges). */
  token?: TokenName;
  /** Simulator: runtime of the VMs of `configDir` (default stopped). */
  vms?: Record<string, Pick<FleetVm, 'status' | 'ioStress' | 'ha' | 'runningQemu' | 'pool'>>;
  /** Simulator: node hardware by name (defaults from the simulator). */
  nodes?: Array<Partial<FleetNode> & { name: string }>;
  backupJobs?: BackupJob[];
}

export interface VmSummary {
  level: RiskLevel;
  /** `severity CODE disk`, worst first. */
  reasons: string[];
  unavailable?: string[];
}

export interface ScenarioSummary {
  totals: Record<RiskLevel, number>;
  vms: Record<string, VmSummary>;
}

/** The golden view of a report. */
export function summarise(report: AuditReport): ScenarioSummary {
  const totals: Record<RiskLevel, number> = { critical: 0, warning: 0, unknown: 0, info: 0, ok: 0 };
  const vms: Record<string, VmSummary> = {};
  for (const vm of report.vms) {
    if (!vm.risk) throw new Error(`VM ${vm.vmid} has no risk`);
    totals[vm.risk.level] += 1;
    const s: VmSummary = {
      level: vm.risk.level,
      reasons: vm.risk.reasons.map((r) => [r.severity, r.code, r.disk].filter(Boolean).join(' ')),
    };
    if (vm.risk.unavailable) s.unavailable = vm.risk.unavailable;
    vms[String(vm.vmid)] = s;
  }
  return { totals, vms };
}

async function configTree(dir: string): Promise<{ storageCfg: string; files: Array<{ vmid: number; node: string; text: string }> }> {
  const storageCfg = await readFile(join(dir, 'storage.cfg'), 'utf8');
  const files: Array<{ vmid: number; node: string; text: string }> = [];
  for (const node of (await readdir(join(dir, 'nodes'))).sort()) {
    const qs = join(dir, 'nodes', node, 'qemu-server');
    for (const name of (await readdir(qs)).sort()) {
      const m = /^(\d+)\.conf$/.exec(name);
      if (m) files.push({ vmid: Number(m[1]), node, text: await readFile(join(qs, name), 'utf8') });
    }
  }
  return { storageCfg, files };
}

async function simulatorFleet(spec: ScenarioSpec, inputDir: string): Promise<FleetData> {
  if (spec.generate) return generateFleet(spec.generate);
  if (!spec.configDir) throw new Error('simulator scenario needs "generate" or "configDir"');
  const tree = await configTree(resolve(inputDir, spec.configDir));
  const nodes = [...new Set(tree.files.map((f) => f.node))];
  const fleet = fleetFromConfigs(
    tree.files.map((f) => ({ ...f, ...spec.vms?.[String(f.vmid)] })),
    { storageCfg: tree.storageCfg, nodes },
  );
  const hw = new Map((spec.nodes ?? []).map((n) => [n.name, n]));
  return {
    ...fleet,
    nodes: fleet.nodes.map((n) => ({ ...n, ...hw.get(n.name) })),
    backupJobs: spec.backupJobs ?? [],
  };
}

/** Runs one scenario directory and returns its summary. */
export async function runScenario(dir: string): Promise<ScenarioSummary> {
  const inputDir = join(dir, 'input');
  const spec = JSON.parse(await readFile(join(inputDir, 'scenario.json'), 'utf8')) as ScenarioSpec;
  const qemu = spec.qemuVersion ? { qemuVersion: spec.qemuVersion } : {};
  if (spec.kind === 'offline') {
    if (!spec.configDir) throw new Error(`${dir}: offline scenario needs "configDir"`);
    return summarise(await audit({ configDir: resolve(inputDir, spec.configDir), ...qemu }));
  }
  const sim = await startSimulator({ fleet: await simulatorFleet(spec, inputDir), authDelayMs: 0, timeScale: 0 });
  try {
    const report = await audit({ pve: sim.url, token: sim[spec.token ?? 'token'], fingerprint: sim.fingerprint!, riskEvidence: true, ...qemu });
    return summarise(report);
  } finally {
    await sim.close();
  }
}
