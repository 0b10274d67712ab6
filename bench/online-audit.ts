// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Online audit speed against the PVE API simulator: 1,000 (or 5,000) VMs, 15 ms per answer,
 * concurrency 8. The physical limit is one request per VM, so the lower bound is
 * VMs x latency / concurrency (1,875 ms); target: the default `audit --pve` (collection, risk
 * evidence and analysis) within 1.2x of it. `requestsByPhase` counts the requests of one audit.
 *
 * The simulator runs in a child process (like a real PVE, it does not share the client's event
 * loop); the client is the CLI's (`clientFromOptions`: HTTPS pinned to the simulator's certificate,
 * the simulator's root token, so every evidence request is allowed). Both run the code as users
 * run it: src/ and the simulator bundled by esbuild with the options scripts/build.mjs bundles
 * dist/cli.js with (out/bench/, built at the start), not the TypeScript under tsx (its transform
 * adds a `__name` call per function and source-mapped stacks). `--src` runs src/ under tsx. One untimed warm-up run, then
 * one JSON line per timed run (with the CPU time the client and the simulator spent per VM, which
 * unlike the wall time does not depend on what else runs on the machine) and a summary line:
 *   {"bench":"online-audit","vms":1000,"latencyMs":15,"concurrency":8,"ms":…,"lowerBoundMs":1875,
 *    "ratio":…,"target":1.3,"pass":true,"requests":…,"untilFirstVmMs":…,"vmPhaseMs":…,"afterLastVmMs":…,…}
 *
 *   npx tsx bench/online-audit.ts [vms=1000] [latencyMs=15] [concurrency=8] [runs=3] [--src]
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SERVE = process.argv.includes('--serve');
const FROM_SRC = process.argv.includes('--src');
const ARGS = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLES = join(ROOT, 'out', 'bench');

/**
 * `exports` (a module body of re-exports from src/) bundled as scripts/build.mjs bundles the CLI
 * (esbuild, node20, ESM, packages external, no minify): the code `pve-dataplane` runs.
 */
async function bundle(name: string, exports: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(BUNDLES, `online-audit-${name}.mjs`);
  await build({
    stdin: { contents: exports, resolveDir: ROOT, loader: 'ts', sourcefile: `${name}.ts` },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return pathToFileURL(outfile).href;
}

/** The modules of each side: bundled (default), or the TypeScript itself with `--src`. */
async function clientModules(): Promise<{ auditCluster: typeof import('../src/audit/index.js').auditCluster; clientFromOptions: typeof import('../src/cli/online.js').clientFromOptions }> {
  if (FROM_SRC) {
    const [{ auditCluster }, { clientFromOptions }] = await Promise.all([import('../src/audit/index.js'), import('../src/cli/online.js')]);
    return { auditCluster, clientFromOptions };
  }
  return import(await bundle('client', "export { auditCluster } from './src/audit/index.ts';\nexport { clientFromOptions } from './src/cli/online.ts';\n"));
}
const [VMS, LATENCY, CONCURRENCY, RUNS] = [1000, 15, 8, 3].map((d, i) => Number(ARGS[i] ?? d)) as [number, number, number, number];
const TARGET = 1.2;

/** The phase a request belongs to, by its path. */
function phaseOf(path: string): string {
  if (/\/qemu\/\d+\/pending$/.test(path)) return 'pending';
  if (/\/qemu\/\d+\/rrddata$/.test(path)) return 'rrddata';
  if (/\/qemu\/\d+\/(snapshot|config)/.test(path)) return 'snapshots';
  if (path === '/cluster/metrics/export') return 'metricsExport';
  if (/^\/nodes\/[^/]+\/storage\/[^/]+\/content$/.test(path)) return 'stateVolumes';
  if (/^\/nodes\/[^/]+\/(qemu|apt\/versions|capabilities\/qemu\/machines)$/.test(path)) return 'perNodeFleet';
  if (/^\/nodes\/[^/]+\//.test(path)) return 'perNodeEvidence';
  return 'cluster';
}

interface Ready {
  url: string;
  token: string;
  fingerprint: string;
}

/** Child mode: start the simulator, print one JSON line when it listens and has parsed every config. */
async function serve(): Promise<void> {
  const { startSimulator } = (FROM_SRC
    ? await import('../api-shim/simulator/index.js')
    : await import(pathToFileURL(join(BUNDLES, 'online-audit-simulator.mjs')).href)) as typeof import('../api-shim/simulator/index.js');
  const sim = await startSimulator({ vms: VMS, latencyMs: LATENCY, seed: 1, authDelayMs: 0 });
  await sim.warmed;
  // The full token: every part of the evidence is readable (Sys.Audit for the metrics export, Sys.Syslog).
  process.stdout.write(`${JSON.stringify({ url: sim.url, token: sim.token, fingerprint: sim.fingerprint })}\n`);
  // Each line on stdin asks for the simulator's CPU time so far (µs), answered on stdout.
  process.stdin.on('data', () => {
    const c = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuUs: c.user + c.system })}\n`);
  });
  process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
}

async function startChild(): Promise<{ ready: Ready; stop: () => void; cpuUs: () => Promise<number> }> {
  const self = fileURLToPath(import.meta.url);
  if (!FROM_SRC) await bundle('simulator', "export { startSimulator } from './api-shim/simulator/index.ts';\n");
  const child = spawn(process.execPath, [...process.execArgv, self, '--serve', ...(FROM_SRC ? ['--src'] : []), ...ARGS], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // One JSON line per message: the ready line, then one per CPU question.
  const lines: Array<(line: string) => void> = [];
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.shift()?.(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => lines.push(resolve));
  const ready = await Promise.race([
    nextLine().then((l) => JSON.parse(l) as Ready),
    new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`simulator exited with ${code} before it was ready`)))),
  ]);
  const cpuUs = async () => {
    const answer = nextLine();
    child.stdin.write('cpu\n');
    return (JSON.parse(await answer) as { cpuUs: number }).cpuUs;
  };
  return { ready, stop: () => child.kill('SIGTERM'), cpuUs };
}

async function measure(): Promise<void> {
  const { auditCluster, clientFromOptions } = await clientModules();
  const { ready, stop, cpuUs } = await startChild();
  const lowerBoundMs = (VMS * LATENCY) / CONCURRENCY;
  const ratios: number[] = [];
  const options = { pve: ready.url, token: ready.token, fingerprint: ready.fingerprint, concurrency: CONCURRENCY };
  try {
    // Requests one audit needs (the collection alone, counted by the client).
    const client = await clientFromOptions(options, {});
    const requestsByPhase: Record<string, number> = {};
    // Every GET goes through `get`, except the metrics export (`getText`: parsed a slice at a time).
    for (const method of ['get', 'getText'] as const) {
      const send = client[method].bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as Record<string, unknown>)[method] = (path: string, ...rest: unknown[]) => {
        const phase = phaseOf(path);
        requestsByPhase[phase] = (requestsByPhase[phase] ?? 0) + 1;
        return send(path, ...rest);
      };
    }
    const t = performance.now();
    await auditCluster(client, {});
    const countedMs = Math.round(performance.now() - t);
    const requests = client.stats.sent;
    for (let run = 0; run <= RUNS; run++) {
      // What `pve-dataplane audit --pve ...` computes, through the audit service: a fresh client
      // (new TLS connections), the collection, the risk evidence and the analysis of every VM.
      const simCpu0 = await cpuUs();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let first = 0;
      let last = 0;
      const report = await auditCluster(await clientFromOptions(options, {}), {
        onProgress: ({ phase, done }) => {
          if (phase !== 'configs') return;
          last = performance.now();
          if (done === 1) first = last;
        },
      });
      const end = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const simCpuUs = (await cpuUs()) - simCpu0;
      const ms = end - t0;
      if (report.vms.length !== VMS) throw new Error(`audited ${report.vms.length} of ${VMS} VMs`);
      if (run === 0) continue; // warm-up (JIT, first connections), like the collection above
      const ratio = ms / lowerBoundMs;
      ratios.push(ratio);
      process.stdout.write(
        `${JSON.stringify({
          bench: 'online-audit',
          run,
          vms: VMS,
          latencyMs: LATENCY,
          concurrency: CONCURRENCY,
          ms: Math.round(ms),
          lowerBoundMs,
          ratio: Number(ratio.toFixed(3)),
          target: TARGET,
          pass: ratio <= TARGET,
          requests,
          requestsByPhase,
          // Where the time goes: VM list + first wave, the /pending phase, and what follows the last answer.
          untilFirstVmMs: Math.round(first - t0),
          vmPhaseMs: Math.round(last - first),
          afterLastVmMs: Math.round(end - last),
          vmPhaseRatio: Number(((last - first) / lowerBoundMs).toFixed(3)),
          // Load-independent: CPU the client (TLS, HTTP, parsing, analysis) spent per VM.
          clientCpuMsPerVm: Number(((cpu.user + cpu.system) / 1000 / VMS).toFixed(3)),
          // The simulator's (PVE's side) CPU per VM in the same run: it shares the machine's cores.
          simCpuMsPerVm: Number((simCpuUs / 1000 / VMS).toFixed(3)),
          loadAverage: Number(loadavg()[0]!.toFixed(2)),
          countedRunMs: countedMs,
          code: FROM_SRC ? 'src under tsx' : 'esbuild bundle',
        })}\n`,
      );
    }
  } finally {
    stop();
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
  process.stdout.write(
    `${JSON.stringify({ bench: 'online-audit', summary: true, vms: VMS, latencyMs: LATENCY, concurrency: CONCURRENCY, runs: ratios.length, lowerBoundMs: (VMS * LATENCY) / CONCURRENCY, medianRatio: Number(median.toFixed(3)), target: TARGET, pass: median <= TARGET, loadAverage: Number(loadavg()[0]!.toFixed(2)) })}\n`,
  );
}

if (SERVE) {
  await serve();
} else {
  await measure();
}
