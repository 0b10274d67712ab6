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
import type { CliIO } from '../io.js';

/** Raw commander options (strings as typed). */
export interface RawSimulateOptions {
  port?: string;
  host?: string;
  vms?: string;
  seed?: string;
  nodes?: string;
  latencyMs?: string;
  http?: boolean;
  pveVersion?: string;
  pveQemuVersion?: string;
  authDelayMs?: string;
  timeScale?: string;
  faults?: string;
  logRequests?: boolean;
}

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} '${value}': expected a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`--${name} '${value}': expected a number >= 0`);
  return Number(value);
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
export async function startFromOptions(raw: RawSimulateOptions, io: Pick<CliIO, 'stderr'>): Promise<{ sim: RunningSimulator; ready: ReadyLine }> {
  const pveVersion = raw.pveVersion ?? '9.1';
  if (pveVersion !== '8.2' && pveVersion !== '9.1') throw new UsageError(`--pve-version '${pveVersion}': expected 8.2 or 9.1`);
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
  const vms = intOption('vms', raw.vms, 0, 100_000) ?? 200;
  const nodes = intOption('nodes', raw.nodes, 1, 64) ?? 3;
  const seed = intOption('seed', raw.seed, 0, 2 ** 31 - 1) ?? 1;
  const latencyMs = numberOption('latency-ms', raw.latencyMs);
  const authDelayMs = numberOption('auth-delay-ms', raw.authDelayMs);
  const timeScale = numberOption('time-scale', raw.timeScale);
  const sim = await startSimulator({
    port: intOption('port', raw.port, 0, 65535) ?? 8006,
    host: raw.host ?? '127.0.0.1',
    vms,
    nodes,
    seed,
    pveVersion: pveVersion as PveVersion,
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
export async function run(raw: RawSimulateOptions, io: CliIO): Promise<number> {
  const { sim, ready } = await startFromOptions(raw, io);
  io.stdout(`${JSON.stringify(ready)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.stderr('simulate: shutting down\n');
  await sim.close();
  return 0;
}
