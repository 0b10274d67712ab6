// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Offline audit speed in-process: builds an /etc/pve-like tree (bench/lib/etc-pve-tree.ts) with 500 VMs, then times `auditFiles(etcPveReader(dir))` (read + parse + analyse).
 * Prints one JSON line per run: {"bench":"audit-config-dir","vms":500,"ms":…}. Target: well under 1 s.
 *
 *   npx tsx bench/audit-config-dir.ts [vms] [runs]     (DP_BENCH_KEEP=1 keeps the generated tree)
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { auditFiles } from '../src/audit/index.js';
import { etcPveReader } from '../src/node/etc-pve.js';
import { writeEtcPveTree } from './lib/etc-pve-tree.js';

const VMS = Number(process.argv[2] ?? 500);
const RUNS = Number(process.argv[3] ?? 3);

const root = writeEtcPveTree(VMS);
try {
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const report = await auditFiles(etcPveReader(root));
    const ms = performance.now() - start;
    if (report.vms.length !== VMS) throw new Error(`expected ${VMS} VMs, audited ${report.vms.length}`);
    const disks = report.vms.reduce((n, v) => n + v.disks.length, 0);
    process.stdout.write(JSON.stringify({ bench: 'audit-config-dir', vms: VMS, disks, run: run + 1, ms: Math.round(ms * 10) / 10 }) + '\n');
  }
} finally {
  // DP_BENCH_KEEP=1 keeps the tree for profiling (its path goes to stderr).
  if (process.env.DP_BENCH_KEEP) process.stderr.write(`${root}\n`);
  else rmSync(root, { recursive: true, force: true });
}
