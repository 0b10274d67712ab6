// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the migration journal holds, and how a journal is read back into per-VM state. Pure: the
 * Node file sink is `src/node/journal.ts`, the browser keeps the same entries elsewhere.
 *
 * NOTE: an intent is written (and fsync'ed) before every write and power action, the outcome after
 * it. An intent without an outcome means the process died in between: the action may or may not
 * have reached PVE, so `apply` and `rollback` decide from what PVE shows now, and use the
 * journal only for values (the baseline) and for what was in flight.
 */
import type { PendingDelete } from '../pve/types.js';

export const JOURNAL_VERSION = 1;

export type RebootPolicy = 'never' | 'now' | 'if-stopped';
export type VmOutcome =
  | 'migrated'
  | 'pending-reboot'
  | 'skipped'
  | 'failed'
  | 'restored'
  | 'awaiting-confirmation';
export type PowerAction = 'reboot' | 'start' | 'shutdown' | 'stop';

interface Base {
  v: typeof JOURNAL_VERSION;
  /** ISO-8601 time. */
  ts: string;
  /** Id of the apply/rollback run that wrote it. */
  run: string;
}

export interface RunEntry extends Base {
  t: 'run';
  kind: 'apply' | 'rollback';
  /** Plan file path and SHA-1 of its bytes (apply). */
  plan?: string;
  planHash?: string;
  pve?: string | null;
  reboot: RebootPolicy;
  pid?: number;
}

/** The VM as first seen by this journal, before anything was written. Written once per VM. */
export interface BaselineEntry extends Base {
  t: 'baseline';
  vmid: number;
  node: string;
  digest: string;
  status: string;
  current: Record<string, string>;
  pending: Record<string, string>;
  deletes: PendingDelete[];
}

export interface WriteIntentEntry extends Base {
  t: 'write';
  vmid: number;
  node: string;
  /** Plan step number (apply) or 0 (rollback). */
  step: number;
  purpose: 'apply' | 'rollback';
  /** Digest sent with the write (read just before). */
  digest: string;
  /** Main-section values before the write of every key set, deleted or reverted (null = absent). */
  previous: Record<string, string | null>;
  /** [PENDING] values of those keys before the write (null = none). */
  previousPending: Record<string, string | null>;
  set: Record<string, string>;
  delete: string[];
  revert?: string[];
  force?: boolean;
  /** Keys whose value allocates a new volume (`STORAGE:1`): a temporary disk we created. */
  allocates?: string[];
  /** Attempt number (digest-mismatch retries start at 2). */
  attempt: number;
}

export interface WriteOutcomeEntry extends Base {
  t: 'write-done';
  vmid: number;
  step: number;
  ok: boolean;
  error?: string;
  /** `digest-mismatch`, `locked`, `permission`, `param`, `connection`, `task`, … */
  code?: string;
  upid?: string;
  /** Digest after the write, and the values of the written keys (allocations get real volume ids). */
  digest?: string;
  values?: Record<string, string | null>;
}

export interface PowerIntentEntry extends Base {
  t: 'power';
  vmid: number;
  node: string;
  action: PowerAction;
  ha: boolean;
  step: number;
}

export interface PowerOutcomeEntry extends Base {
  t: 'power-done';
  vmid: number;
  action: PowerAction;
  ok: boolean;
  error?: string;
  upid?: string;
}

export interface VerifyEntry extends Base {
  t: 'verify';
  vmid: number;
  step: number;
  ok: boolean;
  detail: string;
}

export interface VmResultEntry extends Base {
  t: 'vm';
  vmid: number;
  node: string | null;
  result: VmOutcome;
  reason?: string;
  digest?: string;
}

export interface RunEndEntry extends Base {
  t: 'end';
  counts: Partial<Record<VmOutcome, number>>;
}

export type JournalEntry =
  | RunEntry
  | BaselineEntry
  | WriteIntentEntry
  | WriteOutcomeEntry
  | PowerIntentEntry
  | PowerOutcomeEntry
  | VerifyEntry
  | VmResultEntry
  | RunEndEntry;

/** Distributive Omit, so each entry kind keeps its own fields. */
export type NewEntry<E = JournalEntry> = E extends JournalEntry ? Omit<E, 'v' | 'ts' | 'run'> : never;

/** What the journal says about one VM. */
export interface VmJournal {
  vmid: number;
  node: string | null;
  /** First baseline (before the first apply write) — what rollback restores. */
  baseline: BaselineEntry | null;
  writes: { intent: WriteIntentEntry; outcome: WriteOutcomeEntry | null }[];
  power: { intent: PowerIntentEntry; outcome: PowerOutcomeEntry | null }[];
  verified: VerifyEntry[];
  results: VmResultEntry[];
}

function lastMatch<T>(list: T[], pred: (x: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i]!)) return list[i];
  return undefined;
}

/** Group journal entries by VM, pairing intents with their outcomes (same run, VM, step/action). */
export function replayJournal(entries: JournalEntry[]): Map<number, VmJournal> {
  const vms = new Map<number, VmJournal>();
  const vmOf = (vmid: number, node: string | null): VmJournal => {
    let j = vms.get(vmid);
    if (!j) {
      j = { vmid, node, baseline: null, writes: [], power: [], verified: [], results: [] };
      vms.set(vmid, j);
    }
    if (node && !j.node) j.node = node;
    return j;
  };
  for (const e of entries) {
    switch (e.t) {
      case 'baseline': {
        const j = vmOf(e.vmid, e.node);
        if (!j.baseline) j.baseline = e;
        break;
      }
      case 'write':
        vmOf(e.vmid, e.node).writes.push({ intent: e, outcome: null });
        break;
      case 'write-done': {
        const w = lastMatch(vmOf(e.vmid, null).writes, (x) => x.intent.run === e.run && x.intent.step === e.step && !x.outcome);
        if (w) w.outcome = e;
        break;
      }
      case 'power':
        vmOf(e.vmid, e.node).power.push({ intent: e, outcome: null });
        break;
      case 'power-done': {
        const p = lastMatch(vmOf(e.vmid, null).power, (x) => x.intent.run === e.run && x.intent.action === e.action && !x.outcome);
        if (p) p.outcome = e;
        break;
      }
      case 'verify':
        vmOf(e.vmid, null).verified.push(e);
        break;
      case 'vm':
        vmOf(e.vmid, e.node).results.push(e);
        break;
      default:
        break;
    }
  }
  return vms;
}

/** Keys a VM's journal says we wrote (set or deleted) while applying, in first-touched order. */
export function touchedKeys(j: VmJournal, purpose: 'apply' | 'rollback' = 'apply'): string[] {
  const keys: string[] = [];
  for (const { intent } of j.writes) {
    if (intent.purpose !== purpose) continue;
    for (const k of [...Object.keys(intent.set), ...intent.delete, ...(intent.revert ?? [])]) if (!keys.includes(k)) keys.push(k);
  }
  return keys;
}

/**
 * The journal's last run when it has no `end` entry: the process (or browser tab) running it
 * stopped mid-way, and running the same kind again on this journal resumes it. Null when the
 * last run ended, or the journal has no run.
 */
export function unfinishedRun(entries: readonly JournalEntry[]): RunEntry | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.t !== 'run') continue;
    return entries.some((x, k) => k > i && x.t === 'end' && x.run === e.run) ? null : e;
  }
  return null;
}
