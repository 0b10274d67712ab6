// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane apply --from-plan plan.json --yes`: executes a saved plan, only that. Refused in
 * read-only mode and without `--yes`. Every write is journalled (JSONL, fsync) before it is sent;
 * running the same command again resumes from the journal. `applyFromPlan()` returns the
 * summary; `run()` prints progress and the summary.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { PveClient } from '../../api/client.js';
import { ApplyRefusedError } from '../../migration/apply.js';
import { validatePlan } from '../../node/contracts.js';
import type { JournalEntry, RebootPolicy } from '../../migration/journal-model.js';
import { type OnlineApplyOptions, applyPlanOnline } from '../../migration/online.js';
import { formatSummary } from '../../migration/plan-format.js';
import type { EngineEvent, RunSummary } from '../../migration/runner.js';
import type { MigrationPlan } from '../../migration/types.js';
import { NotAJournalError, openRunJournal, readPriorEntries } from '../../node/journal.js';
import { defaultJournalPath } from '../../node/state-dir.js';
import { ExitError, UsageError } from '../errors.js';
import { type CliIO, useColor } from '../io.js';
import { DEFAULTS, type OptionOrigin } from '../options.js';
import { type OnlineCommandOptions, exitOnInputError, onlineClient, refuseIfReadOnly } from './plan.js';
import { applyPreflight, describeMissing } from '../../migration/preflight.js';

/** Options of `apply` (parsed by ../options.ts; DP_READ_ONLY included). */
export interface ApplyCommandOptions extends OnlineCommandOptions {
  fromPlan?: string;
  reboot?: RebootPolicy;
  journal?: string;
  yes?: boolean;
  readOnly?: boolean;
  vmid?: number[];
  confirmStaged?: number[];
  shutdownTimeout?: number;
  forceReboot?: number[];
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

/** Prior entries of a journal file (resume), with cut lines reported; exit 1 when it is not a journal. */
export function priorEntries(path: string, warn: (line: string) => void): JournalEntry[] {
  try {
    return readPriorEntries(path, warn);
  } catch (err) {
    if (err instanceof NotAJournalError) throw new ExitError(1, err.message);
    throw err;
  }
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

export interface ApplyRun extends OnlineApplyOptions {
  plan: MigrationPlan;
  journalPath: string;
  warn?: (line: string) => void;
}

/**
 * Applies a plan through the API with the journal file at `journalPath` (appended, created when
 * new): the journal-file side of `applyPlanOnline`, shared by the CLI, the tests and the benchmarks.
 */
export async function applyFromPlan(client: PveClient, r: ApplyRun): Promise<RunSummary> {
  const { plan, journalPath, warn, ...options } = r;
  const journal = openRunJournal(journalPath, 'apply', warn ?? (() => {}));
  try {
    return await applyPlanOnline(client, plan, journal, options);
  } finally {
    await journal.writer.close();
  }
}

/** `apply` as the CLI runs it. */
export async function run(raw: ApplyCommandOptions, io: CliIO, origin: OptionOrigin): Promise<number> {
  refuseIfReadOnly('apply', raw.readOnly, origin);
  if (!raw.fromPlan) throw new UsageError('--from-plan FILE is required: apply executes a saved plan (pve-dataplane plan --output FILE)');
  const reboot = raw.reboot ?? DEFAULTS.reboot;
  const concurrency = raw.concurrency ?? DEFAULTS.concurrency;
  const planFile = raw.fromPlan;
  const { plan, hash } = readPlanFile(planFile);
  const vmids = raw.vmid;
  const confirmStaged = raw.confirmStaged;
  const shutdownTimeoutSec = raw.shutdownTimeout;
  const forceReboot = raw.forceReboot;
  const todo = plan.vms.filter((v) => v.eligible && (!vmids || vmids.includes(v.vmid)));
  if (!raw.yes) {
    throw new ExitError(
      2,
      `apply would change ${todo.length} VM${todo.length === 1 ? '' : 's'} (${todo.map((v) => v.vmid).join(', ') || 'none'}) with --reboot ${reboot}; ` +
        're-run with --yes to go ahead',
    );
  }
  const pve = raw.pve ?? '';
  if (plan.pve && pve && plan.pve !== pve) {
    io.stderr(`pve-dataplane: note: the plan was made against ${plan.pve}, applying through ${pve}\n`);
  }
  const journalPath = raw.journal ?? defaultJournalPath(hash, io.env);
  // The token first: a refused token or one that may do nothing gets no journal and one error.
  const client = await onlineClient(raw, io);
  const missing = await exitOnInputError(() => applyPreflight(client, plan, todo, reboot, pve));
  if (missing && missing.size > 0) {
    const lacking = new Set([...missing.values()].flat());
    const text = `the token lacks ${describeMissing(missing)}`;
    if (todo.every((v) => lacking.has(v.vmid))) {
      throw new ExitError(1, `${text}: nothing to apply with it, nothing written. Grant them (e.g. the PVEVMAdmin role on /vms), or apply with --reboot never when only VM.PowerMgmt is missing`);
    }
    io.stderr(`pve-dataplane: ${text}: those VMs are skipped\n`);
  }
  io.stderr(`journal: ${journalPath}\n`);
  const progress = progressFor('apply', io);
  const ctrl = new AbortController();
  const onSigint = (): void => ctrl.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  let summary: RunSummary;
  try {
    summary = await exitOnInputError(() => applyFromPlan(client, {
      plan,
      planFile,
      planHash: hash,
      journalPath,
      reboot,
      concurrency,
      pve,
      signal: ctrl.signal,
      onEvent: progress.onEvent,
      warn: (l) => io.stderr(`pve-dataplane: ${l}\n`),
      ...(vmids ? { vmids } : {}),
      ...(forceReboot ? { forceReboot } : {}),
      ...(confirmStaged ? { confirmStaged } : {}),
      ...(shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec } : {}),
    }));
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
  // A VM left undone for lack of a privilege is a failure for a script, like a failed one.
  const denied = summary.results.some((r) => r.result === 'skipped' && /(^|; )(MISSING_PRIVILEGE|POWERMGMT_MISSING):/.test(r.reason ?? ''));
  return summary.counts.failed || denied ? 1 : 0;
}
