// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane apply --from-plan plan.json --yes`: executes a saved plan, only that. Refused in
 * read-only mode and without `--yes`. Every write is journalled (JSONL, fsync) before it is sent;
 * running the same command again resumes from the journal. `applyFromPlan()` returns the
 * summary; `run()` prints progress and the summary.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { SingleBar } from 'cli-progress';
import type { PveClient } from '../../api/client.js';
import { PveApiError } from '../../api/errors.js';
import { collectFleet } from '../../api/fleet.js';
import { ApplyRefusedError, applyPlan, validatePlan } from '../../migration/apply.js';
import { createApiTarget } from '../../migration/api-target.js';
import type { JournalEntry, RebootPolicy } from '../../migration/journal-model.js';
import { formatSummary } from '../../migration/plan-format.js';
import type { EngineEvent, EngineOptions, RunSummary } from '../../migration/runner.js';
import type { MigrationPlan } from '../../migration/types.js';
import { JsonlJournal, readJournal } from '../../node/journal.js';
import { defaultJournalPath } from '../../node/state-dir.js';
import { ExitError, UsageError } from '../errors.js';
import { type CliIO, useColor } from '../io.js';
import { parseVmidList } from './audit.js';
import { type RawOnlineOptions, onlineClient, parseConcurrency, parseReboot, refuseIfReadOnly } from './plan.js';

export interface RawApplyOptions extends RawOnlineOptions {
  fromPlan?: string;
  reboot?: string;
  journal?: string;
  yes?: boolean;
  readOnly?: boolean;
  vmid?: string;
  confirmStaged?: string;
  shutdownTimeout?: string;
}

/** The plan file, parsed and checked, with the SHA-1 of its bytes (names the default journal). */
export function readPlanFile(path: string): { plan: MigrationPlan; hash: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ExitError(1, `cannot read --from-plan ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ExitError(1, `${path} is not JSON (${(err as Error).message}); make it with 'pve-dataplane plan --output ${path}'`);
  }
  try {
    return { plan: validatePlan(parsed, path), hash: createHash('sha1').update(bytes).digest('hex') };
  } catch (err) {
    if (err instanceof ApplyRefusedError) throw new ExitError(1, err.message);
    throw err;
  }
}

/** Prior entries of a journal file (resume), with cut lines reported. */
export function priorEntries(path: string, warn: (line: string) => void): JournalEntry[] {
  if (!existsSync(path)) return [];
  let read;
  try {
    read = readJournal(path);
  } catch (err) {
    throw new ExitError(1, `--journal ${path}: ${(err as Error).message}`);
  }
  if (read.entries.length === 0 && read.damaged.length > 0) {
    // Someone else's file: never resume from it, never append to it.
    throw new ExitError(
      1,
      `--journal ${path} is not a pve-dataplane journal (line ${read.damaged[0]!.line} is not a journal entry); ` +
        "pass the file apply printed as 'journal: …', or a new path",
    );
  }
  for (const d of read.damaged) warn(`${path}:${d.line}: not a journal entry (cut short by a crash?), ignored`);
  return read.entries;
}

/** A progress bar on stderr for a TTY; events otherwise go nowhere (the summary says it all). */
export function progressFor(label: string, io: CliIO): { onEvent: (e: EngineEvent) => void; stop: () => void } {
  const stream = process.stderr;
  if (!stream.isTTY || !io.isTTY) return { onEvent: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {value}/{total} VMs  {msg}`,
    hideCursor: true,
    barsize: 30,
    clearOnComplete: true,
  });
  let done = 0;
  return {
    onEvent(e) {
      if (e.type === 'start') bar.start(e.total, 0, { msg: '' });
      else if (e.type === 'vm-step') bar.update(done, { msg: `${e.vmid}: ${e.message}`.slice(0, 60) });
      else bar.update(++done, { msg: `${e.result.vmid}: ${e.result.result}` });
    },
    stop: () => bar.stop(),
  };
}

export interface ApplyRun {
  plan: MigrationPlan;
  planFile: string;
  planHash: string;
  journalPath: string;
  reboot: RebootPolicy;
  concurrency: number;
  vmids?: number[];
  confirmStaged?: number[];
  shutdownTimeoutSec?: number;
  pve: string;
  /** Test knobs: poll interval and timeouts of the engine. */
  engine?: Partial<EngineOptions>;
  signal?: AbortSignal;
  onEvent?: (e: EngineEvent) => void;
  warn?: (line: string) => void;
}

/** Applies a plan through the API; the journal file is appended (created when new). */
export async function applyFromPlan(client: PveClient, r: ApplyRun): Promise<RunSummary> {
  const warn = r.warn ?? (() => {});
  const prior = priorEntries(r.journalPath, warn);
  const vmids = r.plan.vms.map((v) => v.vmid).filter((id) => !r.vmids || r.vmids.includes(id));
  let env;
  try {
    // Storages and installed QEMU, read like the plan read them (the per-VM reads come later).
    env = (await collectFleet(client, { vmids })).env;
  } catch (err) {
    if (err instanceof PveApiError) throw new ExitError(1, `${r.pve}: ${err.request}: ${err.message.replace(/\n/g, '; ')}`);
    throw err;
  }
  const target = createApiTarget(client, { env, ...(r.engine?.pollMs !== undefined ? { pollMs: Math.max(r.engine.pollMs, 10) } : {}) });
  const journal = JsonlJournal.open(r.journalPath, `apply-${randomUUID()}`);
  try {
    return await applyPlan(r.plan, target, journal, prior, {
      reboot: r.reboot,
      concurrency: r.concurrency,
      planFile: r.planFile,
      planHash: r.planHash,
      pve: r.pve,
      authUser: null,
      ...(r.vmids ? { vmids: r.vmids } : {}),
      ...(r.confirmStaged ? { confirmStaged: r.confirmStaged } : {}),
      ...(r.shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec: r.shutdownTimeoutSec } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.onEvent ? { onEvent: r.onEvent } : {}),
      ...r.engine,
    });
  } finally {
    await journal.close();
  }
}

/** `apply` as the CLI runs it. */
export async function run(raw: RawApplyOptions, io: CliIO): Promise<number> {
  refuseIfReadOnly('apply', raw.readOnly, io.env);
  if (!raw.fromPlan) throw new UsageError('--from-plan FILE is required: apply executes a saved plan (pve-dataplane plan --output FILE)');
  const reboot = parseReboot(raw.reboot);
  const concurrency = parseConcurrency(raw.concurrency);
  const { plan, hash } = readPlanFile(raw.fromPlan);
  const vmids = raw.vmid !== undefined ? parseVmidList(raw.vmid) : undefined;
  const confirmStaged = raw.confirmStaged !== undefined ? parseVmidList(raw.confirmStaged) : undefined;
  let shutdownTimeoutSec: number | undefined;
  if (raw.shutdownTimeout !== undefined) {
    if (!/^\d+$/.test(raw.shutdownTimeout)) throw new UsageError(`--shutdown-timeout must be seconds (got '${raw.shutdownTimeout}')`);
    shutdownTimeoutSec = Number(raw.shutdownTimeout);
  }
  const todo = plan.vms.filter((v) => v.eligible && (!vmids || vmids.includes(v.vmid)));
  if (!raw.yes) {
    throw new ExitError(
      2,
      `apply would change ${todo.length} VM${todo.length === 1 ? '' : 's'} (${todo.map((v) => v.vmid).join(', ') || 'none'}) with --reboot ${reboot}; ` +
        're-run with --yes to go ahead',
    );
  }
  const pve = raw.pve ?? io.env.PVE_URL ?? '';
  if (plan.pve && pve && plan.pve !== pve) {
    io.stderr(`pve-dataplane: note: the plan was made against ${plan.pve}, applying through ${pve}\n`);
  }
  const journalPath = raw.journal ?? defaultJournalPath(hash, io.env);
  io.stderr(`journal: ${journalPath}\n`);
  const client = await onlineClient(raw, io);
  const progress = progressFor('apply', io);
  const ctrl = new AbortController();
  const onSigint = (): void => ctrl.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  let summary: RunSummary;
  try {
    summary = await applyFromPlan(client, {
      plan,
      planFile: raw.fromPlan,
      planHash: hash,
      journalPath,
      reboot,
      concurrency,
      pve,
      signal: ctrl.signal,
      onEvent: progress.onEvent,
      warn: (l) => io.stderr(`pve-dataplane: ${l}\n`),
      ...(vmids ? { vmids } : {}),
      ...(confirmStaged ? { confirmStaged } : {}),
      ...(shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec } : {}),
    });
  } catch (err) {
    if (ctrl.signal.aborted) {
      throw new ExitError(130, `interrupted; the journal ${journalPath} holds what was done. Run the same apply again to resume, or rollback --journal ${journalPath}`);
    }
    throw err;
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
  io.stdout(formatSummary(summary, { color: useColor(io), journal: journalPath }));
  return summary.counts.failed ? 1 : 0;
}
