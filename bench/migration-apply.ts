// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Migration speed on the simulator: plan, apply (`--reboot never` and `now`) and rollback of a
 * generated fleet, with a per-request API latency. Prints one JSON line per phase:
 *   {"bench":"migration-apply","phase":"apply-now","vms":200,"latencyMs":5,"concurrency":4,"ms":…,"requests":…,"perVmMs":…}
 * Requests per VM show the cost model: one /pending + one status read, one POST + task polls,
 * re-reads after the write; the reboot adds its task and state polls.
 *
 *   npx tsx bench/migration-apply.ts [vms] [latencyMs] [concurrency]
 */
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSimulator } from '../api-shim/simulator/index.js';
import { PveClient } from '../src/api/client.js';
import { applyFromPlan } from '../src/cli/commands/apply.js';
import { makePlan } from '../src/cli/commands/plan.js';
import { rollbackFromJournal } from '../src/cli/commands/rollback.js';

const VMS = Number(process.argv[2] ?? 200);
const LATENCY = Number(process.argv[3] ?? 5);
const CONCURRENCY = Number(process.argv[4] ?? 4);

const sim = await startSimulator({ vms: VMS, seed: 7, http: true, authDelayMs: 0, timeScale: 0.001, latencyMs: LATENCY });
const client = new PveClient({
  baseUrl: sim.url,
  auth: { kind: 'token', token: sim.token },
  concurrency: CONCURRENCY,
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }),
});
const dir = mkdtempSync(join(tmpdir(), 'dp-bench-'));
const engine = { pollMs: 20, powerTimeoutMs: 60_000, restartGraceMs: 5_000 };

async function phase<T>(name: string, vms: number, fn: () => Promise<T>): Promise<T> {
  const sent = client.stats.sent;
  const t0 = performance.now();
  const out = await fn();
  const ms = Math.round(performance.now() - t0);
  const requests = client.stats.sent - sent;
  console.log(
    JSON.stringify({ bench: 'migration-apply', phase: name, vms, latencyMs: LATENCY, concurrency: CONCURRENCY, ms, requests, perVmMs: vms ? Math.round(ms / vms) : null }),
  );
  return out;
}

try {
  const { plan } = await phase('plan', VMS, () => makePlan(client, {}, { aio: 'threads' }, { pve: sim.url }));
  const eligible = plan.vms.filter((v) => v.eligible).length;
  const run = (journal: string, reboot: 'never' | 'now') =>
    applyFromPlan(client, { plan, planFile: 'plan.json', planHash: journal, journalPath: join(dir, `${journal}.jsonl`), reboot, concurrency: CONCURRENCY, pve: sim.url, engine });
  const never = await phase('apply-never', eligible, () => run('a', 'never'));
  const now = await phase('apply-now (resume: reboots only)', eligible, () => run('a', 'now'));
  await phase('rollback-now', eligible, () => rollbackFromJournal(client, { journalPath: join(dir, 'a.jsonl'), reboot: 'now', concurrency: CONCURRENCY, pve: sim.url, engine }));
  console.log(JSON.stringify({ bench: 'migration-apply', phase: 'counts', never: never.counts, now: now.counts }));
  for (const r of [...never.results, ...now.results]) if (r.result === 'failed') console.error(`failed ${r.vmid}: ${r.reason}`);
} finally {
  await sim.state.settle();
  await sim.close();
}
