// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * V8 settings of the CLI's CPU-bound commands. The offline audit runs thousands of small per-VM
 * functions once per VM; TurboFan compiles the hot ones on background threads, inlining their
 * callees into large functions. At 5,000 VMs those compiles cost nearly as much CPU as the audit
 * itself (json: ~0.75 s next to ~1.2 s of audit; the table: ~1.2 s), and on a 2-core machine
 * they compete with the audit (and the GC's helper threads) for the cores.
 * Set at run time, before the audit's functions get hot: the compiler reads these flags whenever
 * it inlines. Only for the V8 versions of Node 20 to 24 (11.x to 13.x), which have the flags: an
 * unknown flag would print an error.
 */
import { setFlagsFromString } from 'node:v8';

function knownV8(): boolean {
  const major = Number(process.versions.v8.split('.')[0]);
  return major >= 11 && major <= 13;
}

/**
 * TurboFan inlines only callees of at most 60 bytes of bytecode (default 460): small helpers
 * still, not whole rule functions. Offline audit of 5,000 VMs, one thread, load ~7-9, medians of 5
 * runs against the default: background CPU 0.75 s → 0.60 s (json) and 1.18 s → 0.82 s (table),
 * the audit thread the same (1.16-1.25 s).
 */
export function smallerInlining(): void {
  if (knownV8()) setFlagsFromString('--max-inlined-bytecode-size=60');
}

/**
 * TurboFan without inlining, for the offline audit of a large tree on two threads: each thread's
 * V8 compiles the same functions. Without inlining the compiles cost ~0.4 s less and the audit
 * threads measured the same.
 */
export function lighterOptimizingCompiler(): void {
  if (knownV8()) setFlagsFromString('--no-turbo-inlining');
}
