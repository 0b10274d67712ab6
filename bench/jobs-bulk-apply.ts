// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bulk apply through the shim's jobs API: 500 VMs of the simulator, reboot never, per-request
 * latency. Plans them (`POST /dp/plans`), runs the job (`POST /dp/jobs`) to its end (followed
 * through its event stream, as the panel follows it), checks that
 * no update was lost (every written VM's digest is the one the job reports, every planned value
 * is in PVE), and prints one JSON line per phase:
 *
 *   {"bench":"jobs-bulk-apply","phase":"job","vms":500,"written":…,"latencyMs":15,"upstreamConcurrency":4,
 *    "ms":…,"requests":…,"requestsPerVm":…,"boundMs":…,"ratio":…,"lostUpdates":0}
 *
 * `boundMs` is the concurrency bound: the requests the phase sent × latency / the requests the
 * shim's upstream client keeps in flight (api-shim/upstream-client.ts). `ratio` = ms / boundMs
 * shows what the shim adds beyond waiting for PVE (journal syncs, planning, scheduling);
 * `requestsPerVm` shows what each VM costs on the wire; `cpuMsPerRequest` the CPU this process
 * (simulator, shim and engine together: they share its one thread) spends per request.
 *
 *   npx tsx bench/jobs-bulk-apply.ts [vms] [latencyMs] [jobConcurrency]
 */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../api-shim/app.js';
import type { JobView, PlanAnswer } from '../api-shim/contracts/jobs.js';
import { startSimulator } from '../api-shim/simulator/index.js';
import { UPSTREAM_CONCURRENCY } from '../api-shim/upstream-client.js';
import { sameConfigValue } from '../src/migration/config-keys.js';
import { PveClient } from '../src/api/client.js';
import { collectFleet } from '../src/audit/fleet.js';

const VMS = Number(process.argv[2] ?? 500);
const LATENCY = Number(process.argv[3] ?? 15);
const JOB_CONCURRENCY = Number(process.argv[4] ?? 8);
const CSRF = 'bench-csrf';

let requests = 0;
const sim = await startSimulator({ vms: VMS, seed: 7, http: true, authDelayMs: 0, timeScale: 0.001, latencyMs: LATENCY, log: () => void requests++ });
await sim.warmed;
const app = await buildApp({ upstream: sim.url, token: sim.token, panelDir: null, csrfToken: CSRF, stateDir: mkdtempSync(join(tmpdir(), 'dp-bench-jobs-')) });
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { csrfpreventiontoken: CSRF, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Follows the job's Server-Sent Events (as the panel does) until its summary. */
async function untilSummary(id: string): Promise<void> {
  const res = await fetch(`${base}/dp/jobs/${id}/events`);
  if (!res.ok || !res.body) throw new Error(`GET /dp/jobs/${id}/events: ${res.status}`);
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (/^event: summary$/m.test(text)) return;
    // Only the tail can still hold the start of the summary event.
    text = text.slice(-64);
  }
  throw new Error(`the event stream of job ${id} ended without a summary`);
}

async function phase<T>(name: string, vms: number, fn: () => Promise<T>): Promise<{ out: T; line: Record<string, unknown> }> {
  const sent = requests;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const ms = Math.round(performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  const n = requests - sent;
  const boundMs = Math.round((n * LATENCY) / UPSTREAM_CONCURRENCY);
  const line = {
    bench: 'jobs-bulk-apply',
    phase: name,
    vms,
    latencyMs: LATENCY,
    jobConcurrency: JOB_CONCURRENCY,
    upstreamConcurrency: UPSTREAM_CONCURRENCY,
    ms,
    requests: n,
    requestsPerVm: vms ? Math.round((n / vms) * 10) / 10 : null,
    boundMs,
    ratio: boundMs ? Math.round((ms / boundMs) * 100) / 100 : null,
    // Load-independent: the CPU of this one process (simulator, shim, engine, journal) per request.
    cpuMsPerRequest: n ? Math.round(((cpu.user + cpu.system) / 1000 / n) * 100) / 100 : null,
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
  };
  return { out, line };
}

try {
  const vms = [...sim.state.vms.values()].map((vm) => ({ vmid: vm.vmid, node: vm.node }));
  const plan = await phase('plan', VMS, () => call<PlanAnswer>('POST', '/dp/plans', { vms }));
  console.log(JSON.stringify(plan.line));
  const toWrite = plan.out.plan.vms.filter((v) => v.eligible && v.changes.some((c) => !c.alreadyPending));
  const job = await phase('job', toWrite.length, async () => {
    const started = await call<JobView>('POST', '/dp/jobs', { planId: plan.out.id, reboot: 'never', concurrency: JOB_CONCURRENCY });
    await untilSummary(started.id);
    return call<JobView>('GET', `/dp/jobs/${started.id}`);
  });
  // Zero lost updates: every written VM holds its planned values (read back through the API),
  // with the digest the job reports.
  const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, concurrency: 8, httpAgent: new http.Agent({ keepAlive: true, maxSockets: 8 }) });
  const now = new Map((await collectFleet(client)).inputs.map((i) => [i.vmid, i]));
  let lost = 0;
  for (const v of toWrite) {
    const input = now.get(v.vmid)!;
    const next = (key: string): string | null =>
      key in input.pending ? input.pending[key]! : input.deletes.some((d) => d.key === key) ? null : (input.current[key] ?? null);
    const vm = job.out.vms.find((x) => x.vmid === v.vmid)!;
    const ok = vm.digestAfter === input.digest && v.changes.every((c) => sameConfigValue(c.key, next(c.key), c.after));
    if (!ok) lost++;
  }
  console.log(JSON.stringify({ ...job.line, written: job.out.counts.written + job.out.counts.verified, counts: job.out.counts, lostUpdates: lost }));
} finally {
  await app.close();
  await sim.state.settle();
  await sim.close();
}
