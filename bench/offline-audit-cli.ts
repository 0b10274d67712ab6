// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Offline audit end to end: the CLI process (`node bin/pve-dataplane.js audit --config-dir DIR`)
 * on a generated 5,000-VM /etc/pve tree, output to a file, for `--format json` and the table.
 * Wall time and max RSS per run come from the process itself (`/usr/bin/time`, GNU time).
 *
 * Goals (issue #13): json under 1 s, the table as fast, max RSS under 300 MB, and >= 12x the
 * throughput of qemu-server's Perl parser (parse_vm_config + parse_drive), which the issue quotes
 * at about 409 configs/s on this hardware class: a QUOTED anchor, not measured here.
 * Needs `npm run build` first (dist/cli.js).
 *
 *   npx tsx bench/offline-audit-cli.ts [vms=5000] [runs=3]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEtcPveTree } from './lib/etc-pve-tree.js';

const VMS = Number(process.argv[2] ?? 5000);
const RUNS = Number(process.argv[3] ?? 3);
const GOAL_MS = 1000;
const GOAL_RSS_MB = 300;
/** qemu-server's Perl parser, configs/s (quoted by issue #13, not measured). */
const PERL_ANCHOR = 409;

if (!existsSync('dist/cli.js')) throw new Error('dist/cli.js missing: run `npm run build` first');
const root = writeEtcPveTree(VMS);
const out = join(tmpdir(), `dp-bench-out-${process.pid}`);
const timeFile = join(tmpdir(), `dp-bench-time-${process.pid}`);
try {
  for (const format of ['json', 'table'] as const) {
    const runs: Array<{ ms: number; rssMb: number; cpuMs: number }> = [];
    for (let run = 0; run <= RUNS; run++) {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, 'sh', '-c', `exec node bin/pve-dataplane.js audit --config-dir '${root}' --format ${format} > '${out}' 2>/dev/null`]);
      if (r.status !== 0) throw new Error(`audit --format ${format} exited ${r.status}: ${r.stderr}`);
      const [sec, kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-4).map(Number) as [number, number, number, number];
      if (run === 0) continue; // warm-up (page cache)
      runs.push({ ms: Math.round(sec * 1000), rssMb: Math.round(kb / 1024), cpuMs: Math.round((user + sys) * 1000) });
    }
    const ms = [...runs.map((r) => r.ms)].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
    const rssMb = Math.max(...runs.map((r) => r.rssMb));
    const configsPerSec = Math.round((VMS * 1000) / ms);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'offline-audit-cli',
        format,
        vms: VMS,
        runs: runs.map((r) => r.ms),
        ms,
        goalMs: GOAL_MS,
        ratio: Number((ms / GOAL_MS).toFixed(3)),
        pass: ms < GOAL_MS,
        // CPU time of the process (user + sys): less sensitive to other load than wall time.
        cpuMs: [...runs.map((r) => r.cpuMs)].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!,
        maxRssMb: rssMb,
        goalRssMb: GOAL_RSS_MB,
        rssPass: rssMb < GOAL_RSS_MB,
        configsPerSec,
        perlAnchorConfigsPerSec: PERL_ANCHOR,
        perlAnchor: 'quoted (issue #13), not measured',
        vsPerl: Number((configsPerSec / PERL_ANCHOR).toFixed(1)),
        vsPerlGoal: 12,
        outputMb: Number((statSync(out).size / 1e6).toFixed(1)),
        loadAverage: Number(loadavg()[0]!.toFixed(2)),
      })}\n`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
  rmSync(out, { force: true });
  rmSync(timeFile, { force: true });
}
