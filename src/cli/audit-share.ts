// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The offline JSON audit of a large tree on two threads (machines with three cores or more): a
 * worker (./audit-worker.ts) reads, audits and formats the upper VMIDs while the main thread does
 * the lower ones; the main thread then writes the worker's share after its own, so the output is
 * the one a single thread writes.
 *
 * Only the JSON: the table's layout needs every row before the first line, and the worker's blocks
 * cost the main thread about what they save (measured: two threads used more CPU in all, 4.2 s
 * against 3.5 s, for 0.4 s less on the main thread).
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { VmidRange } from '../audit/reader.js';
import type { ConfigIssue } from '../pve/types.js';
import type { ShareMessage, ShareRequest } from './audit-share-protocol.js';
import { UsageError } from './errors.js';

/**
 * Below this many configs one thread is done before a second one has started (a worker takes
 * ~0.1 s to start and load the audit).
 */
export const SHARE_MIN_VMS = 1000;

/**
 * The main thread's part of the VMs. Half: the worker starts ~0.1 s later (thread, module load),
 * the main thread writes both shares; per VM they measured the same CPU (5,000 VMs, 0.73-0.93 s each).
 */
const OWN_PART = 0.5;

/** The worker, built beside the CLI's bundle (absent when the CLI runs from its TypeScript sources). */
const WORKER = new URL('./audit-worker.js', import.meta.url);

const CONF_RE = /^(\d+)\.conf$/;

/** The VMIDs of the tree's `<vmid>.conf` files, from the folder listings alone (nothing read). */
function listedVmids(dir: string): number[] {
  const vmids = new Set<number>();
  const scan = (folder: string): void => {
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      return; // the audit itself reports folders it cannot list
    }
    for (const name of names) {
      const m = CONF_RE.exec(name);
      if (m) vmids.add(Number(m[1]));
    }
  };
  let nodes: string[] = [];
  try {
    nodes = readdirSync(join(dir, 'nodes'));
  } catch {
    // a tree with only qemu-server/
  }
  for (const node of nodes) scan(join(dir, 'nodes', node, 'qemu-server'));
  scan(join(dir, 'qemu-server'));
  return [...vmids].sort((a, b) => a - b);
}

/** The worker's share once its files are read. */
export interface SharePrepared {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** The node of each of its VMs (its VM count, and what the report's assumptions need). */
  nodes: Array<string | null>;
}

/** A running worker with the upper VMIDs of a tree. */
export interface SecondShare {
  /** The VMIDs the main thread audits itself. */
  own: VmidRange;
  prepared(): Promise<SharePrepared>;
  /** The worker's next message after `prepared` (`json` pieces, then `done`). */
  next(): Promise<ShareMessage>;
  stop(): Promise<void>;
}

/**
 * Whether a second audit thread pays on this machine. Each thread's V8 compiles the audit's code
 * on background threads, about 0.4 s of CPU per thread for 5,000 VMs next to its ~0.8 s of audit:
 * with two cores only, the two threads and their compilers share them, and the whole took about as
 * long as one thread (measured: 2.2-2.5 s of CPU in all against 1.6-1.9 s). From three cores on, the
 * compilers have a core of their own. `PVE_DATAPLANE_THREADS=1` or `2` decides instead.
 */
function twoThreadsPay(env: Record<string, string | undefined>): boolean {
  return threadsChosen(env) ?? availableParallelism() >= 3;
}

/**
 * `PVE_DATAPLANE_THREADS`: true for `2`, false for `1`, null when unset (the machine decides).
 * Anything else is a usage error naming the variable, not a silent default.
 */
export function threadsChosen(env: Record<string, string | undefined>): boolean | null {
  const v = env.PVE_DATAPLANE_THREADS;
  if (v === undefined || v === '') return null;
  if (v === '1' || v === '2') return v === '2';
  throw new UsageError(`PVE_DATAPLANE_THREADS=${v}: expected 1 (one audit thread) or 2 (two); unset it to let the machine decide`);
}

/**
 * Starts the worker (`workerUrl`, default: the built one) for the upper VMIDs of
 * `request.configDir`, or returns null when one thread does it as fast: a small tree, no built
 * worker, two cores or fewer (see {@link twoThreadsPay}).
 */
export function startSecondShare(request: ShareRequest, env: Record<string, string | undefined>, workerUrl: URL = WORKER): SecondShare | null {
  if (!twoThreadsPay(env) || !existsSync(fileURLToPath(workerUrl))) return null;
  const vmids = listedVmids(request.configDir);
  if (vmids.length < SHARE_MIN_VMS) return null;
  const split = vmids[Math.floor(vmids.length * OWN_PART)] as number;
  const worker = new Worker(workerUrl, {
    workerData: { ...request, options: { ...request.options, vmidRange: { from: split, to: Number.MAX_SAFE_INTEGER } } } satisfies ShareRequest,
  });
  const queue: ShareMessage[] = [];
  let head = 0;
  let failure: Error | null = null;
  let finished = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: ShareMessage) => {
    if (m.kind === 'done') finished = true;
    queue.push(m);
    poke();
  });
  worker.on('error', (err) => {
    failure = err;
    poke();
  });
  worker.on('exit', (code) => {
    if (!finished) failure ??= new Error(`the audit's worker thread stopped (exit code ${code}) before it was done`);
    poke();
  });
  async function next(): Promise<ShareMessage> {
    while (head === queue.length) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const m = queue[head] as ShareMessage;
    queue[head++] = undefined as unknown as ShareMessage; // let the bytes go once written
    return m;
  }
  return {
    own: { from: 0, to: split },
    async prepared() {
      const m = await next();
      if (m.kind !== 'prepared') throw new Error(`audit worker: '${m.kind}' before 'prepared'`);
      return { errors: m.errors, warnings: m.warnings ?? [], nodes: m.nodes };
    },
    next,
    async stop() {
      finished = true;
      await worker.terminate();
    },
  };
}
