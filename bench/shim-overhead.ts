// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shim overhead per proxied GET: autocannon against the simulator directly and through the shim,
 * in one run (same simulator, same path, same connections, same offered rate). The simulator
 * (HTTP, no added latency) and the shim run in child processes; autocannon drives both from this
 * one. Goal: p50 overhead under 1 ms.
 *
 * Measured at the panel's own load, defaults on: 6 reads in flight (the audit's concurrency)
 * against a PVE answering in 15 ms (the simulator's added latency), i.e. about 400 reads/s, under
 * the shim's per-user pacing (500/s, api-shim/options.ts). With no added latency the loopback
 * simulator answers in 0.2 ms and a closed loop of 6 connections would measure the 2 cores'
 * throughput (and the pacing) instead: the three processes queue behind each other and p50
 * becomes connections / throughput, whatever one GET costs. Per-request latencies come from autocannon's `response` events (hrtime, fractional
 * ms; its histogram rounds to whole ms). Direct and shim runs alternate (A B A B) so a load
 * change during the run hits both.
 *
 *   npx tsx bench/shim-overhead.ts [seconds=5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const MODE = process.argv[2];
const SECONDS = Number(process.argv[2] === '--child' ? 5 : (process.argv[2] ?? 5));
/** The panel's reads in flight (src/audit fleet concurrency default), for the throughput figure. */
const PANEL_CONNECTIONS = 6;
/** What a PVE answer takes (ms), as in the audit and panel benchmarks. */
const LATENCY_MS = 15;
// The read the panel makes once per VM (5,000 of a 5,000-VM load); VM 100 is on pve1 in the seed-1 fleet.
const PATH = '/api2/json/nodes/pve1/qemu/100/pending';
const GOAL_MS = 1;

async function child(): Promise<void> {
  const what = process.argv[3];
  if (what === 'sim') {
    const { startSimulator } = await import('../api-shim/simulator/index.js');
    const sim = await startSimulator({ vms: 20, latencyMs: LATENCY_MS, seed: 1, authDelayMs: 0, http: true });
    await sim.warmed;
    process.stdout.write(`${JSON.stringify({ url: sim.url, token: sim.auditToken })}\n`);
    process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
  } else {
    const { buildApp } = await import('../api-shim/app.js');
    const app = await buildApp({ upstream: process.argv[4]!, token: process.argv[5]!, panelDir: null });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
    // The shim's CPU time so far (µs), on request: load-independent cost per proxied GET.
    process.on('SIGUSR2', () => {
      const u = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ cpuUs: u.user + u.system })}\n`);
    });
    process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  }
}

/** The shim child's CPU time (µs), asked for with SIGUSR2. */
function cpuOf(proc: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      proc.stdout!.off('data', onData);
      resolve((JSON.parse(buf.slice(0, nl)) as { cpuUs: number }).cpuUs);
    };
    proc.stdout!.on('data', onData);
    proc.kill('SIGUSR2');
  });
}

function start(args: string[]): Promise<{ info: Record<string, string>; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ info: JSON.parse(buf.slice(0, nl)) as Record<string, string>, proc });
    });
    proc.on('exit', (code) => reject(new Error(`child ${args[0]} exited with ${code}`)));
  });
}

interface Sample {
  latencies: number[];
  non2xx: number;
}

/** The panel's reads in flight for SECONDS / 2; every answer's latency in ms. */
async function load(url: string, headers: Record<string, string>, into: Sample): Promise<void> {
  const instance = autocannon({ url: url + PATH, connections: PANEL_CONNECTIONS, duration: SECONDS / 2, headers });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) into.latencies.push(ms);
  });
  const r = await instance;
  into.non2xx += r.non2xx + r.errors;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(s.length * p))]!.toFixed(3));
}

async function measure(): Promise<void> {
  const sim = await start(['sim']);
  const shim = await start(['shim', sim.info.url!, sim.info.token!]);
  try {
    const direct = { authorization: `PVEAPIToken=${sim.info.token}` };
    const host = new URL(shim.info.url!).host;
    // Warm-up of both paths (JIT, keep-alive sockets).
    await autocannon({ url: sim.info.url! + PATH, connections: PANEL_CONNECTIONS, amount: 500, headers: direct });
    await autocannon({ url: shim.info.url! + PATH, connections: PANEL_CONNECTIONS, amount: 500, headers: { host } });
    const a: Sample = { latencies: [], non2xx: 0 };
    const b: Sample = { latencies: [], non2xx: 0 };
    let shimCpuUs = 0;
    for (let round = 0; round < 2; round++) {
      await load(sim.info.url!, direct, a);
      const cpu0 = await cpuOf(shim.proc);
      await load(shim.info.url!, { host }, b);
      shimCpuUs += (await cpuOf(shim.proc)) - cpu0;
    }
    if (a.non2xx > 0 || b.non2xx > 0) throw new Error(`failed requests: direct ${a.non2xx}, shim ${b.non2xx}`);
    const [directP50, shimP50] = [percentile(a.latencies, 0.5), percentile(b.latencies, 0.5)];
    const overhead = Number((shimP50 - directP50).toFixed(3));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'shim-overhead',
        path: PATH,
        connections: PANEL_CONNECTIONS,
        upstreamLatencyMs: LATENCY_MS,
        seconds: SECONDS,
        samples: { direct: a.latencies.length, shim: b.latencies.length },
        directP50Ms: directP50,
        shimP50Ms: shimP50,
        directP99Ms: percentile(a.latencies, 0.99),
        shimP99Ms: percentile(b.latencies, 0.99),
        p50OverheadMs: overhead,
        // Load-independent: the shim process's CPU time per proxied GET.
        shimCpuMsPerGet: Number((shimCpuUs / 1000 / b.latencies.length).toFixed(3)),
        goalMs: GOAL_MS,
        ratio: Number((overhead / GOAL_MS).toFixed(3)),
        pass: overhead < GOAL_MS,
        loadAverage: Number(loadavg()[0]!.toFixed(2)),
      })}\n`,
    );
  } finally {
    shim.proc.kill('SIGTERM');
    sim.proc.kill('SIGTERM');
  }
}

if (MODE === '--child') await child();
else await measure();
