// SPDX-License-Identifier: AGPL-3.0-or-later
// Runs the benchmarks in bench/ one after another (or those named: `npm run bench -- online-audit`)
// and writes BENCHMARKS.md: one table of every figure (its goal, its ratio to the bound or anchor
// measured in the same run), the machine (cores, load average) and the date. Each benchmark prints
// JSON lines on stdout (kept in out/bench.jsonl); run them on a quiet machine, they measure wall time.
// A line becomes a row when it has `bench` and `ratio`/`medianRatio` (summary lines, or single figures).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

const wanted = process.argv.slice(2);
const all = readdirSync('bench').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3)).sort();
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
// The CLI benchmarks run the bundle.
spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

/** Extra runs: the online audit at 5,000 VMs too. */
const RUNS = { 'online-audit': [['1000', '15', '8', '3'], ['5000', '15', '8', '1']] };
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const lines = [];
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  for (const args of RUNS[name] ?? [[]]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    process.stdout.write(r.stdout);
    if (r.status !== 0) failed += 1;
    for (const l of r.stdout.split('\n')) {
      try {
        if (l.trim()) lines.push({ file: name, ...JSON.parse(l) });
      } catch {
        // not a JSON line
      }
    }
  }
}
const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
mkdirSync('out', { recursive: true });
writeFileSync('out/bench.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

/** One row per figure that has a goal. */
function rows(l) {
  if (l.bench === 'online-audit' && l.summary) {
    return [[`online audit, evidence on, ${l.vms} VMs (${l.latencyMs} ms, concurrency ${l.concurrency}), median of ${l.runs}`, `${Math.round(l.medianRatio * l.lowerBoundMs)} ms`, `≤ ${l.target}× bound (${l.lowerBoundMs} ms)`, `${l.medianRatio}× bound`, l.pass]];
  }
  if (l.bench === 'online-audit' && !l.summary && l.run === 1) {
    return [[`  requests of one audit, ${l.vms} VMs`, `${l.requests}: ${Object.entries(l.requestsByPhase ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}`, 'one per VM + per node + 1 export', `${(l.requests / l.vms).toFixed(3)} per VM`, null]];
  }
  if (l.bench === 'offline-audit-cli') {
    return [
      [`offline audit CLI, ${l.vms} VMs, --format ${l.format} (median; CPU ${l.cpuMs} ms)`, `${l.ms} ms`, `< ${l.goalMs} ms`, `${l.ratio}× goal`, l.pass],
      [`  throughput vs qemu-server Perl parser (${l.perlAnchor})`, `${l.configsPerSec} configs/s`, `≥ ${l.vsPerlGoal}× ${l.perlAnchorConfigsPerSec}/s`, `${l.vsPerl}× anchor`, l.vsPerl >= l.vsPerlGoal],
      [`  max RSS, --format ${l.format}`, `${l.maxRssMb} MB`, `< ${l.goalRssMb} MB`, `${(l.maxRssMb / l.goalRssMb).toFixed(2)}× goal`, l.rssPass],
    ];
  }
  if (l.bench === 'shim-overhead') {
    return [[`shim p50 overhead per proxied GET (autocannon, ${l.connections} conns, ${l.seconds} s)`, `${l.p50OverheadMs} ms (direct ${l.directP50Ms}, shim ${l.shimP50Ms})`, `< ${l.goalMs} ms`, `${l.ratio}× goal`, l.pass]];
  }
  // Other benchmarks (panel-*, bulk apply, ...): a line with goal/ratio fields of its own.
  if (l.ratio !== undefined && (l.target !== undefined || l.goal !== undefined || l.goalMs !== undefined) && !l.run) {
    const goal = l.goal ?? (l.goalMs !== undefined ? `${l.goalMs} ms` : `≤ ${l.target}×`);
    const value = l.ms !== undefined ? `${l.ms} ms` : (l.value ?? '');
    return [[`${l.bench}${l.figure ? `: ${l.figure}` : ''}`, String(value), String(goal), `${l.ratio}×`, l.pass ?? null]];
  }
  return [];
}

const table = lines.flatMap(rows);
const cpu = cpus();
const md = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}.`,
  `Load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}. Wall-time figures scale with that load;`,
  'the CPU-time and request figures do not. Raw JSON lines: `out/bench.jsonl` of the run.',
  '',
  '| figure | measured | goal | ratio | pass |',
  '|---|---|---|---|---|',
  ...table.map(([f, v, g, r, p]) => `| ${f} | ${v} | ${g} | ${r} | ${p === null ? '' : p ? 'yes' : '**no**'} |`),
  '',
  'The Perl anchor (409 configs/s for qemu-server `parse_vm_config` + `parse_drive`) is quoted from issue #13, not measured here.',
  '',
];
writeFileSync('BENCHMARKS.md', md.join('\n'));
console.error(`BENCHMARKS.md written (${table.length} rows)`);
process.exit(failed > 0 ? 1 : 0);
