// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Apply and rollback inside the PVE web UI: the core's engine (src/migration/online.ts) run in
 * the browser on the user's own PVE session, journalled to IndexedDB. The same engine as
 * `pve-dataplane apply`: one digest-guarded write per VM with the previewed plan's digest, the
 * reboot policy through PVE's own tasks, resume from the journal.
 */
import type { PveClient } from '../../src/api/client.js';
import { type JournalEntry, type RebootPolicy, type VmOutcome, replayJournal, unfinishedRun } from '../../src/migration/journal-model.js';
import { applyPlanOnline, rollbackCandidates, rollbackOnline } from '../../src/migration/online.js';
import type { EngineEvent, RunSummary } from '../../src/migration/runner.js';
import { digestOf } from '../../src/pve/digest.js';
import type { IdbJournalStore, JournalMeta } from './idb-journal.js';

/** Reason of the VMs a cancel kept from starting. */
export const CANCELLED = 'not started: cancelled in the browser';

/** What Apply or Roll back runs with. */
export interface BrowserRunRequest {
  kind: 'apply' | 'rollback';
  reboot: RebootPolicy;
  /** Rollback: only these VMs (default: every VM the journal's apply wrote). */
  vmids?: number[];
}

/** Hooks of a run: progress, and the cancel question asked before each VM starts. */
export interface BrowserRunHooks {
  onEvent?: (e: EngineEvent) => void;
  /** True once the user cancelled: VMs not yet started are skipped, those in flight finish. */
  cancelled?: () => boolean;
  /** Engine timings (tests against the simulator's fast clock). */
  engine?: { pollMs?: number; powerTimeoutMs?: number };
}

/** A second tab running the same journal would send the same writes twice. */
export class JournalBusyError extends Error {
  override name = 'JournalBusyError';
}

/** VMs in flight at once: pveproxy has few workers and the user's own UI polls too. */
const CONCURRENCY = 2;

/** Runs `work` holding the journal's Web Lock (one run per journal across this origin's tabs). */
async function withJournalLock<T>(id: string, work: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return work();
  return locks.request(`pve-dataplane-journal-${id}`, { ifAvailable: true }, async (lock) => {
    if (!lock) throw new JournalBusyError(`journal ${id} is being run in another tab of this browser; continue there`);
    return work();
  }) as Promise<T>;
}

/** SHA-1 of the plan as the journal's run entry records it (the CLI hashes its plan file). */
export function planHash(meta: JournalMeta): string {
  return digestOf(JSON.stringify(meta.plan));
}

/**
 * Runs an apply of the journal's plan (a first run or a resume: the engine decides from what PVE
 * shows now, the journal holds what was in flight) or a rollback of what its applies wrote.
 * @throws JournalBusyError when another tab runs this journal
 * @throws MigrationReadError when PVE cannot be read at all
 */
export async function runJournal(client: PveClient, store: IdbJournalStore, meta: JournalMeta, req: BrowserRunRequest, hooks: BrowserRunHooks = {}): Promise<RunSummary> {
  return withJournalLock(meta.id, async () => {
    const prior = await store.entries(meta.id);
    const journal = { prior, writer: store.writer(meta.id, req.kind) };
    const engine = {
      ...hooks.engine,
      ...(req.reboot === 'now' ? { powerPerNode: meta.perNode } : {}),
      beforeVm: () => (hooks.cancelled?.() ? CANCELLED : null),
    };
    const common = { reboot: req.reboot, concurrency: CONCURRENCY, pve: globalThis.location?.origin ?? '', engine, ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}) };
    if (req.kind === 'rollback') return rollbackOnline(client, journal, { ...common, ...(req.vmids ? { vmids: req.vmids } : {}) });
    return applyPlanOnline(client, meta.plan, journal, {
      ...common,
      vmids: meta.vmids,
      planFile: `indexeddb:${meta.id}`,
      planHash: planHash(meta),
      // The plan applied is the plan previewed: a VM edited since is skipped, never re-planned.
      previewDigest: true,
    });
  });
}

/** One VM of a journal as the progress list shows it. */
export interface VmProgress {
  vmid: number;
  node: string | null;
  /** The last engine result, or null while none. */
  result: VmOutcome | null;
  /** Its reason, or the step in flight. */
  detail: string;
}

/**
 * Where each VM of the journal stands: its last result; a write or power action whose outcome is
 * missing (the tab closed mid-way) says so; VMs not reached say "not started".
 */
export function journalProgress(meta: JournalMeta, entries: readonly JournalEntry[]): VmProgress[] {
  const byVm = replayJournal([...entries]);
  const nodes = new Map(meta.plan.vms.map((v) => [v.vmid, v.node]));
  return meta.vmids.map((vmid) => {
    const j = byVm.get(vmid);
    const node = j?.node ?? nodes.get(vmid) ?? null;
    const last = j?.results.at(-1);
    const openWrite = j?.writes.find((w) => !w.outcome && (!last || w.intent.ts > last.ts));
    const openPower = j?.power.find((p) => !p.outcome && (!last || p.intent.ts > last.ts));
    if (openWrite) return { vmid, node, result: null, detail: 'interrupted during its config write (resume checks what PVE has)' };
    if (openPower) return { vmid, node, result: null, detail: `interrupted during its ${openPower.intent.action}` };
    if (last) return { vmid, node, result: last.result, detail: last.reason ?? '' };
    return { vmid, node, result: null, detail: 'not started' };
  });
}

/** What a journal offers: resume its unfinished run, roll back what its applies wrote. */
export function journalState(entries: readonly JournalEntry[]): { unfinished: 'apply' | 'rollback' | null; rollbackable: number[] } {
  return { unfinished: unfinishedRun(entries)?.kind ?? null, rollbackable: rollbackCandidates([...entries]) };
}
