// SPDX-License-Identifier: AGPL-3.0-or-later
/** V8 settings of the CLI's CPU-bound commands. */
import { setFlagsFromString } from 'node:v8';

/**
 * TurboFan without inlining, for the offline audit of a large tree on two threads. The audit runs
 * thousands of small per-VM functions once per VM; with inlining, TurboFan compiles them into
 * large functions on background threads, for each thread's V8 (5,000 VMs: ~0.7 s of compiles in
 * all next to ~0.8 s of audit per thread), and those compete with the audit threads for the cores.
 * Without inlining the compiles cost ~0.4 s less and the audit threads measured the same.
 * Only for the V8 versions of Node 20 to 24 (11.x to 13.x), which have the flag: an unknown flag
 * would print an error.
 */
export function lighterOptimizingCompiler(): void {
  const major = Number(process.versions.v8.split('.')[0]);
  if (major >= 11 && major <= 13) setFlagsFromString('--no-turbo-inlining');
}
