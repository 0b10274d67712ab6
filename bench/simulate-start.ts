// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Simulator start-up: `startSimulator({vms})` until it listens (fleet generation, config parsing,
 * TLS key, socket), then the first `/cluster/resources` and the first `/nodes/{n}/qemu?full=1` of
 * every node. With a built CLI (dist/cli.js) also the `simulate` command from process spawn to its
 * ready line. One JSON line per figure. Target: 1,000 VMs start in under 2 s.
 *
 *   npx tsx bench/simulate-start.ts [vms] [runs]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../api-shim/simulator/index.js';

const VMS = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.argv[3] ?? 3);
const TARGET_MS = 2000;

function get(url: string, token: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Authorization: `PVEAPIToken=${token}` }, ca }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

for (let run = 1; run <= RUNS; run++) {
  const t0 = performance.now();
  const sim = await startSimulator({ vms: VMS, seed: run, authDelayMs: 0 });
  const started = performance.now() - t0;
  const t1 = performance.now();
  const bytes = await get(`${sim.url}/api2/json/cluster/resources`, sim.token, sim.certificate!);
  const resources = performance.now() - t1;
  const t2 = performance.now();
  await Promise.all(sim.state.nodeNames().map((n) => get(`${sim.url}/api2/json/nodes/${n}/qemu?full=1`, sim.token, sim.certificate!)));
  const lists = performance.now() - t2;
  await sim.close();
  process.stdout.write(
    `${JSON.stringify({ bench: 'simulate-start', vms: VMS, run, startMs: Math.round(started), targetMs: TARGET_MS, pass: started < TARGET_MS, clusterResourcesMs: Math.round(resources), clusterResourcesBytes: bytes, qemuListsMs: Math.round(lists) })}\n`,
  );
}

const cli = fileURLToPath(new URL('../bin/pve-dataplane.js', import.meta.url));
if (existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url)))) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'simulate', '--port', '0', '--vms', String(VMS), '--auth-delay-ms', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise<string | null>((resolve) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.on('exit', () => resolve(null));
  });
  const ms = performance.now() - t0;
  child.kill('SIGTERM');
  if (line === null) {
    process.stdout.write(`${JSON.stringify({ bench: 'simulate-cli-ready', error: 'simulate exited before it was ready (is dist/cli.js current? npm run build)' })}\n`);
  } else {
    const ready = JSON.parse(line) as { url: string };
    process.stdout.write(`${JSON.stringify({ bench: 'simulate-cli-ready', vms: VMS, ms: Math.round(ms), targetMs: TARGET_MS, pass: ms < TARGET_MS, url: ready.url })}\n`);
  }
} else {
  process.stdout.write(`${JSON.stringify({ bench: 'simulate-cli-ready', skipped: 'dist/cli.js missing; run npm run build' })}\n`);
}
