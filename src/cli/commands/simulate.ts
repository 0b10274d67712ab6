// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane simulate`: an in-memory PVE cluster answering the PVE API (for a first try of the
 * tool, the demo, the tests and the benchmarks). When it listens it prints ONE JSON line on stdout,
 * `{"url":...,"token":...,"fingerprint":...}`; everything else goes to stderr. Runs until
 * SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { startSimulator, type FaultPlan, type PveVersion, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { type PveQemuSpec, parsePveQemuSpec, pveQemuOf } from '../../../api-shim/simulator/pve-qemu.js';
import { UsageError } from '../errors.js';
import { type CliIO, untilStopped } from '../io.js';
import { DEFAULTS } from '../options.js';

/** Options of `simulate`, parsed by the kinds of ../options.ts. */
export interface SimulateOptions {
  port?: number;
  host?: string;
  vms?: number;
  seed?: number;
  nodes?: number;
  latencyMs?: number;
  http?: boolean;
  pveVersion?: PveVersion;
  /** `10.1.2-4` or `pve1=10.1.2-4,pve2=11.0.0-2`, read by parsePveQemuSpec. */
  pveQemuVersion?: string;
  authDelayMs?: number;
  timeScale?: number;
  faults?: string;
  logRequests?: boolean;
}

/** The line printed on stdout when the simulator is ready. */
export interface ReadyLine {
  url: string;
  token: string;
  fingerprint: string | null;
  /** Read-only token (VM.Audit + Datastore.Audit). */
  auditToken: string;
}

/** Starts the simulator from CLI options; returns it and the ready line (tests use this). */
export async function startFromOptions(raw: SimulateOptions, io: Pick<CliIO, 'stderr'>): Promise<{ sim: RunningSimulator; ready: ReadyLine }> {
  const pveVersion = raw.pveVersion ?? DEFAULTS.pveVersion;
  let faults: FaultPlan | undefined;
  if (raw.faults) {
    try {
      faults = JSON.parse(await readFile(raw.faults, 'utf8')) as FaultPlan;
    } catch (e) {
      throw new UsageError(`--faults '${raw.faults}': cannot read a fault plan (JSON {"rules":[...]}): ${(e as Error).message}`);
    }
  }
  let pveQemuVersion: PveQemuSpec | undefined;
  if (raw.pveQemuVersion !== undefined) {
    try {
      pveQemuVersion = parsePveQemuSpec(raw.pveQemuVersion);
    } catch (e) {
      throw new UsageError(`--pve-qemu-version: ${(e as Error).message}, or NODE=VERSION,... per node`);
    }
  }
  const vms = raw.vms ?? DEFAULTS.simulatorVms;
  const nodes = raw.nodes ?? DEFAULTS.simulatorNodes;
  const seed = raw.seed ?? DEFAULTS.seed;
  const { latencyMs, authDelayMs, timeScale } = raw;
  const sim = await startSimulator({
    port: raw.port ?? DEFAULTS.simulatorPort,
    host: raw.host ?? DEFAULTS.host,
    vms,
    nodes,
    seed,
    pveVersion,
    ...(pveQemuVersion !== undefined ? { pveQemuVersion } : {}),
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    ...(authDelayMs !== undefined ? { authDelayMs } : {}),
    ...(timeScale !== undefined ? { timeScale } : {}),
    ...(raw.http ? { http: true } : {}),
    ...(faults ? { faults } : {}),
    ...(raw.logRequests ? { log: (line: string) => io.stderr(`${line}\n`) } : {}),
  });
  io.stderr(
    `simulate: PVE ${pveVersion} cluster '${sim.state.clusterName}', ${vms} VMs on ${nodes} nodes (seed ${seed}), ` +
      `QEMU ${sim.state.qemuVersion} (pve-qemu-kvm ${sim.state.nodes.map((n) => pveQemuOf(sim.state, n.name)).filter((v, i, a) => a.indexOf(v) === i).join(', ')}), listening on ${sim.url}\n` +
      `simulate: tokens: admin ${sim.token}\n` +
      `simulate:         read-only ${sim.auditToken}\n` +
      `simulate:         no Datastore.Audit ${sim.noDatastoreToken}\n` +
      `simulate: ticket login root@pam / ${sim.rootPassword}\n`,
  );
  return { sim, ready: { url: sim.url, token: sim.token, fingerprint: sim.fingerprint, auditToken: sim.auditToken } };
}

/** CLI entry: prints the ready line, then serves until SIGINT/SIGTERM. */
export async function run(raw: SimulateOptions, io: CliIO): Promise<number> {
  const { sim, ready } = await startFromOptions(raw, io);
  io.stdout(`${JSON.stringify(ready)}\n`);
  await untilStopped(io);
  io.stderr('simulate: shutting down\n');
  await sim.close();
  return 0;
}
