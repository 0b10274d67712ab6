// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shim overhead per proxied GET: autocannon against the simulator directly and through the shim,
 * in one run (same simulator, same path, same connections). The simulator (HTTP, no added latency)
 * and the shim run in child processes; autocannon drives both from this one. Goal: p50 overhead
 * under 1 ms.
 *
 *   npx tsx bench/shim-overhead.ts [seconds=5] [connections=8]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const MODE = process.argv[2];
const SECONDS = Number(process.argv[2] === '--child' ? 5 : (process.argv[2] ?? 5));
const CONNECTIONS = Number(process.argv[3] ?? 8);
const PATH = '/api2/json/cluster/resources?type=vm';
const GOAL_MS = 1;

async function child(): Promise<void> {
  const what = process.argv[3];
  if (what === 'sim') {
    const { startSimulator } = await import('../api-shim/simulator/index.js');
    const sim = await startSimulator({ vms: 20, latencyMs: 0, seed: 1, authDelayMs: 0, http: true });
    await sim.warmed;
    process.stdout.write(`${JSON.stringify({ url: sim.url, token: sim.auditToken })}\n`);
    process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
  } else {
    const { buildApp } = await import('../api-shim/app.js');
    const app = await buildApp({ upstream: process.argv[4]!, token: process.argv[5]!, panelDir: null });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
    process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  }
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

async function load(url: string, headers: Record<string, string>): Promise<{ p50: number; p99: number; rps: number; non2xx: number }> {
  const r = await autocannon({ url: url + PATH, connections: CONNECTIONS, duration: SECONDS, headers });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: Math.round(r.requests.average), non2xx: r.non2xx + r.errors };
}

async function measure(): Promise<void> {
  const sim = await start(['sim']);
  const shim = await start(['shim', sim.info.url!, sim.info.token!]);
  try {
    const direct = { authorization: `PVEAPIToken=${sim.info.token}` };
    const host = new URL(shim.info.url!).host;
    // Warm-up of both paths (JIT, keep-alive sockets).
    await autocannon({ url: sim.info.url! + PATH, connections: CONNECTIONS, amount: 500, headers: direct });
    await autocannon({ url: shim.info.url! + PATH, connections: CONNECTIONS, amount: 500, headers: { host } });
    const a = await load(sim.info.url!, direct);
    const b = await load(shim.info.url!, { host });
    if (a.non2xx > 0 || b.non2xx > 0) throw new Error(`failed requests: direct ${a.non2xx}, shim ${b.non2xx}`);
    const overhead = Number((b.p50 - a.p50).toFixed(3));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'shim-overhead',
        path: PATH,
        connections: CONNECTIONS,
        seconds: SECONDS,
        directP50Ms: a.p50,
        shimP50Ms: b.p50,
        directP99Ms: a.p99,
        shimP99Ms: b.p99,
        directRps: a.rps,
        shimRps: b.rps,
        p50OverheadMs: overhead,
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
