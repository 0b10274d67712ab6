// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Scenario runner: one directory per scenario, `test/scenarios/<name>/` with
 *
 *   README.md         what the scenario shows and why each VM gets its level
 *   input/scenario.json  how to run it (below), plus the config tree it names
 *   expected.json     the golden summary: level, reasons and unchecked parts per VM
 *   expected-audit.json  the whole `audit --format json` output (paths relative to the repository),
 *                     so that a refactor of the audit is proven to print the same JSON
 *
 * `scenario.json`:
 *   {"kind": "offline", "configDir": "etc-pve"}           the offline audit of a copy of /etc/pve
 *   {"kind": "offline", "confDir": "…", "storageCfg": "…"}  `audit --conf <every *.conf in confDir> --storage-cfg …`
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
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fleetFromConfigs, generateFleet, startSimulator } from '../../api-shim/simulator/index.js';
import type { BackupJob, FleetData, FleetNode, FleetVm } from '../../api-shim/simulator/types.js';
import type { AuditReport, RiskLevel } from '../../src/analysis/types.js';
import { type AuditCommandOptions, run } from '../../src/cli/commands/audit.js';
import { captureIO } from '../unit/cli/capture.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

type TokenName = 'token' | 'auditToken' | 'noDatastoreToken' | 'operatorToken';

export interface ScenarioSpec {
  kind: 'offline' | 'simulator';
  /** Config tree laid out like /etc/pve (storage.cfg, nodes/<node>/qemu-server/<vmid>.conf). */
  configDir?: string;
  /** Offline: a folder whose `*.conf` files are audited one by one (`--conf`). */
  confDir?: string;
  /** Offline with `confDir`: the storage.cfg (`--storage-cfg`); without it every storage type is unknown. */
  storageCfg?: string;
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

export interface ScenarioResult {
  summary: ScenarioSummary;
  /** What `audit --format json` printed, paths made relative to the repository (`<repo>/…`). */
  json: unknown;
}

/**
 * `audit --format json` as the CLI prints it. Masked: the checkout's path, the temporary simulator's
 * URL, and what the simulator derives from the wall clock (syslog time stamps, IO rates of the last
 * hour); levels, codes, messages and facts stay exact.
 */
async function auditJson(raw: AuditCommandOptions, env: Record<string, string> = {}, mask: Array<[string, string]> = []): Promise<unknown> {
  const io = captureIO({ env });
  const code = await run({ ...raw, format: 'json' }, io);
  if (code !== 0) throw new Error(`audit exited ${code}: ${io.err()}`);
  let text = io.out().split(REPO).join('<repo>');
  for (const [from, to] of mask) text = text.split(from).join(to);
  text = text.replace(/"[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d /g, '"<time> ').replace(/\d+\.\d MiB\/s/g, '<rate> MiB/s');
  return JSON.parse(text);
}

/** Runs one scenario directory and returns its summary and its whole JSON output. */
export async function runScenario(dir: string): Promise<ScenarioResult> {
  const inputDir = join(dir, 'input');
  const spec = JSON.parse(await readFile(join(inputDir, 'scenario.json'), 'utf8')) as ScenarioSpec;
  const qemu = spec.qemuVersion ? { qemuVersion: spec.qemuVersion } : {};
  let json: unknown;
  if (spec.kind === 'offline') {
    if (spec.confDir) {
      const confDir = resolve(inputDir, spec.confDir);
      const conf = (await readdir(confDir)).filter((n) => n.endsWith('.conf')).sort().map((n) => join(confDir, n));
      const storageCfg = spec.storageCfg ? { storageCfg: resolve(inputDir, spec.storageCfg) } : {};
      json = await auditJson({ conf, ...storageCfg, ...qemu });
    } else {
      if (!spec.configDir) throw new Error(`${dir}: offline scenario needs "configDir" or "confDir"`);
      json = await auditJson({ configDir: resolve(inputDir, spec.configDir), ...qemu });
    }
  } else {
    const sim = await startSimulator({ fleet: await simulatorFleet(spec, inputDir), authDelayMs: 0, timeScale: 0 });
    try {
      json = await auditJson({ pve: sim.url, fingerprint: sim.fingerprint!, ...qemu }, { PVE_TOKEN: sim[spec.token ?? 'token'] }, [[sim.url, '<simulator>']]);
    } finally {
      await sim.close();
    }
  }
  return { summary: summarise(json as AuditReport), json };
}
