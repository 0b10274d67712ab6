// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane rollback --journal FILE --yes`: restores the exact previous values of every key
 * an apply wrote (digest-guarded), with the same reboot policies. Refused in read-only mode and
 * without `--yes`. The rollback's own entries are appended to the same journal.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { PveClient } from '../../api/client.js';
import { PveApiError } from '../../api/errors.js';
import { collectFleet } from '../../api/fleet.js';
import { createApiTarget } from '../../migration/api-target.js';
import { replayJournal, type JournalEntry, type RebootPolicy } from '../../migration/journal-model.js';
import { formatSummary } from '../../migration/plan-format.js';
import { rollbackJournal } from '../../migration/rollback.js';
import type { EngineEvent, EngineOptions, RunSummary } from '../../migration/runner.js';
import { JsonlJournal } from '../../node/journal.js';
import { ExitError, UsageError } from '../errors.js';
import { type CliIO, useColor } from '../io.js';
import { priorEntries, progressFor } from './apply.js';
import { parseVmidList } from './audit.js';
import { type RawOnlineOptions, onlineClient, parseConcurrency, parseReboot, refuseIfReadOnly } from './plan.js';

export interface RawRollbackOptions extends RawOnlineOptions {
  journal?: string;
  vmid?: string;
  reboot?: string;
  yes?: boolean;
  readOnly?: boolean;
}

export interface RollbackRun {
  journalPath: string;
  reboot: RebootPolicy;
  concurrency: number;
  vmids?: number[];
  pve: string;
  engine?: Partial<EngineOptions>;
  signal?: AbortSignal;
  onEvent?: (e: EngineEvent) => void;
  warn?: (line: string) => void;
}

/** VMs a journal can roll back (apply wrote to them). */
export function rollbackCandidates(entries: JournalEntry[]): number[] {
  return [...replayJournal(entries).values()]
    .filter((j) => j.writes.some((w) => w.intent.purpose === 'apply'))
    .map((j) => j.vmid)
    .sort((a, b) => a - b);
}

/** Rolls back through the API; appends to the journal. */
export async function rollbackFromJournal(client: PveClient, r: RollbackRun): Promise<RunSummary> {
  const entries = priorEntries(r.journalPath, r.warn ?? (() => {}));
  const vmids = rollbackCandidates(entries).filter((id) => !r.vmids || r.vmids.includes(id));
  let env;
  try {
    env = (await collectFleet(client, { vmids })).env;
  } catch (err) {
    if (err instanceof PveApiError) throw new ExitError(1, `${r.pve}: ${err.request}: ${err.message.replace(/\n/g, '; ')}`);
    throw err;
  }
  const target = createApiTarget(client, { env, ...(r.engine?.pollMs !== undefined ? { pollMs: Math.max(r.engine.pollMs, 10) } : {}) });
  const journal = JsonlJournal.open(r.journalPath, `rollback-${randomUUID()}`);
  try {
    return await rollbackJournal(entries, target, journal, {
      reboot: r.reboot,
      concurrency: r.concurrency,
      ...(r.vmids ? { vmids: r.vmids } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.onEvent ? { onEvent: r.onEvent } : {}),
      ...r.engine,
    });
  } finally {
    await journal.close();
  }
}

/** `rollback` as the CLI runs it. */
export async function run(raw: RawRollbackOptions, io: CliIO): Promise<number> {
  refuseIfReadOnly('rollback', raw.readOnly, io.env);
  if (!raw.journal) throw new UsageError('--journal FILE is required (apply prints it: journal: …)');
  if (!existsSync(raw.journal)) throw new ExitError(1, `--journal ${raw.journal}: no such file`);
  const reboot = parseReboot(raw.reboot);
  const concurrency = parseConcurrency(raw.concurrency);
  const vmids = raw.vmid !== undefined ? parseVmidList(raw.vmid) : undefined;
  const candidates = rollbackCandidates(priorEntries(raw.journal, () => {})).filter((id) => !vmids || vmids.includes(id));
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
    summary = await rollbackFromJournal(client, {
      journalPath: raw.journal,
      reboot,
      concurrency,
      pve: raw.pve ?? io.env.PVE_URL ?? '',
      signal: ctrl.signal,
      onEvent: progress.onEvent,
      warn: (l) => io.stderr(`pve-dataplane: ${l}\n`),
      ...(vmids ? { vmids } : {}),
    });
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
