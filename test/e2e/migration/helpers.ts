// SPDX-License-Identifier: AGPL-3.0-or-later
/** Simulator fixtures of the migration end-to-end tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigFileSpec, type RunningSimulator, fleetFromConfigs, startSimulator } from '../../../api-shim/simulator/index.js';
import { analyzeVm } from '../../../src/audit/index.js';
import type { VmReport } from '../../../src/analysis/types.js';
import { PveClient } from '../../../src/api/client.js';
import { collectFleet } from '../../../src/audit/fleet.js';
import type { EngineOptions } from '../../../src/migration/runner.js';
import { parseDrive } from '../../../src/pve/index.js';

export interface SimEnv {
  sim: RunningSimulator;
  client: PveClient;
  dir: string;
  /** Config file text of a VM as the simulator holds it. */
  text(vmid: number): string;
  close(): Promise<void>;
}

/** Fast engine timings: the simulator runs its guests 1000x faster than real time. */
export const FAST: Partial<EngineOptions> = { pollMs: 10, powerTimeoutMs: 20_000, restartGraceMs: 2_000, agentWaitMs: 2_000 };

/** A simulator (plain http, no auth delay, 1000x time) holding exactly these configs. */
export async function simWith(files: ConfigFileSpec[], opts: { seed?: number; latencyMs?: number } = {}): Promise<SimEnv> {
  const sim = await startSimulator({
    fleet: fleetFromConfigs(files),
    http: true,
    authDelayMs: 0,
    timeScale: 0.001,
    seed: opts.seed ?? 1,
    ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
  });
  const client = new PveClient({
    baseUrl: sim.url,
    auth: { kind: 'token', token: sim.token },
    concurrency: 8,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 8 }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'dp-e2e-'));
  writeFileSync(join(dir, 'token'), sim.token + '\n', { mode: 0o600 });
  return {
    sim,
    client,
    dir,
    text: (vmid) => sim.state.vms.get(vmid)!.text,
    close: async () => {
      await sim.state.settle();
      await sim.close();
    },
  };
}

/** The online audit of the given VMs, as `audit --pve` computes it. */
export async function onlineAudit(client: PveClient, vmids: number[]): Promise<Map<number, VmReport>> {
  const fleet = await collectFleet(client, { vmids });
  return new Map(fleet.inputs.map((i) => [i.vmid, analyzeVm(i, fleet.env)]));
}

/** Options of a drive string other than iothread/aio, key -> value as written. */
export function otherOptions(key: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of parseDrive(key, value).options.parts) if (p.key !== 'iothread' && p.key !== 'aio') out[p.key] = p.value;
  return out;
}

/** `key: value` lines of the main section of a config text. */
export function mainValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) break;
    const m = /^([a-z][a-z0-9_-]*):\s?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Config lines -> text, the way PVE writes a file (callers keep keys sorted). */
export function conf(...lines: string[]): string {
  return lines.join('\n') + '\n';
}
