// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane rollback --journal FILE --yes`: restores the exact previous values of every key
 * an apply wrote (digest-guarded), with the same reboot policies. Refused in read-only mode and
 * without `--yes`. The rollback's own entries are appended to the same journal.
 */
import { existsSync } from 'node:fs';
import type { PveClient } from '../../api/client.js';
import { type OnlineRunOptions, rollbackCandidates, rollbackOnline } from '../../migration/online.js';
import type { RebootPolicy } from '../../migration/journal-model.js';
import { formatSummary } from '../../migration/plan-format.js';
import type { RunSummary } from '../../migration/runner.js';
import { openRunJournal } from '../../node/journal.js';
import { ExitError, UsageError } from '../errors.js';
import { type CliIO, useColor } from '../io.js';
import { priorEntries, progressFor } from './apply.js';
import { DEFAULTS, type OptionOrigin } from '../options.js';
import { type OnlineCommandOptions, exitOnInputError, onlineClient, refuseIfReadOnly } from './plan.js';

/** Options of `rollback` (parsed by ../options.ts; DP_READ_ONLY included). */
export interface RollbackCommandOptions extends OnlineCommandOptions {
  journal?: string;
  vmid?: number[];
  reboot?: RebootPolicy;
  yes?: boolean;
  readOnly?: boolean;
  forceReboot?: number[];
}

export interface RollbackRun extends OnlineRunOptions {
  journalPath: string;
  warn?: (line: string) => void;
}

/** VMs a journal can roll back; re-exported from the migration for scripts. */
export { rollbackCandidates };

/**
 * Rolls back through the API from the journal file at `journalPath`, appending to it: the
 * journal-file side of `rollbackOnline`, shared by the CLI, the tests and the benchmarks.
 */
export async function rollbackFromJournal(client: PveClient, r: RollbackRun): Promise<RunSummary> {
  const { journalPath, warn, ...options } = r;
  const journal = openRunJournal(journalPath, 'rollback', warn ?? (() => {}));
  try {
    return await rollbackOnline(client, journal, options);
  } finally {
    await journal.writer.close();
  }
}

/** `rollback` as the CLI runs it. */
export async function run(raw: RollbackCommandOptions, io: CliIO, origin: OptionOrigin): Promise<number> {
  refuseIfReadOnly('rollback', raw.readOnly, origin);
  if (!raw.journal) throw new UsageError('--journal FILE is required (apply prints it: journal: …)');
  if (!existsSync(raw.journal)) throw new ExitError(1, `--journal ${raw.journal}: no such file`);
  const reboot = raw.reboot ?? DEFAULTS.reboot;
  const concurrency = raw.concurrency ?? DEFAULTS.concurrency;
  const vmids = raw.vmid;
  const forceReboot = raw.forceReboot;
  const journalPath = raw.journal;
  const candidates = rollbackCandidates(priorEntries(journalPath, () => {})).filter((id) => !vmids || vmids.includes(id));
  if (!raw.yes) {
    throw new ExitError(
      2,
      `rollback would restore ${candidates.length} VM${candidates.length === 1 ? '' : 's'} (${candidates.join(', ') || 'none'}) with --reboot ${reboot}; re-run with --yes to go ahead`,
    );
  }
  io.stderr(`journal: ${raw.journal}\n`);
  const client = await onlineClient(raw, io);
  const progress = progressFor('rollback', io);
  const ctrl = new AbortController();
  const onSigint = (): void => ctrl.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  let summary: RunSummary;
  try {
    summary = await exitOnInputError(() => rollbackFromJournal(client, {
      journalPath,
      reboot,
      concurrency,
      pve: raw.pve ?? '',
      signal: ctrl.signal,
      onEvent: progress.onEvent,
      warn: (l) => io.stderr(`pve-dataplane: ${l}\n`),
      ...(vmids ? { vmids } : {}),
      ...(forceReboot ? { forceReboot } : {}),
    }));
  } catch (err) {
    if (ctrl.signal.aborted) throw new ExitError(130, `interrupted; run the same rollback again to continue (journal ${raw.journal})`);
    throw err;
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
  io.stdout(formatSummary(summary, { color: useColor(io), journal: raw.journal }));
  return summary.counts.failed ? 1 : 0;
}
