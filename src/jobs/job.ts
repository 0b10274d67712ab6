// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One job: an apply of a saved plan or a rollback of an earlier job, run by the migration engine
 * (src/migration/online.ts, the functions `apply --from-plan` and `rollback` use) against a
 * journal of its own. Per-VM states are folded from the journal entries as they are stored;
 * each transition becomes an event (the shim's SSE stream, the browser's live progress).
 *
 * Where records and journals are kept is the caller's (`JobStorage`): files in the shim's state
 * directory, IndexedDB in the PVE web UI. The state machine is this one for both.
 *
 * Resume: the journal is the job's memory. Running a job again starts a new engine run on the
 * same journal for the VMs without a result; the engine decides from what PVE shows now and the
 * intents left open (crash-resume of the CLI).
 */
import type { PveClient } from '../api/client.js';
import { JOURNAL_VERSION, type JournalEntry, type NewEntry } from '../migration/journal-model.js';
import { applyPlanOnline, rollbackOnline } from '../migration/online.js';
import type { EngineOptions, JournalWriter } from '../migration/runner.js';
import type { JobRecord } from './record.js';
import type { JobEvent, JobListItem, JobView, PlanAnswer, VmJobView } from './types.js';
import { VmStates } from './vm-states.js';

/** Where a job keeps its record and journal. */
export interface JobStorage {
  /** Replaces the job's record (the shim's file, the browser's IndexedDB row). */
  saveRecord(record: JobRecord): void;
  /** A writer appending to the job's journal under a new run id; `close` when the run ends. */
  openWriter(record: JobRecord): JournalWriter & { close(): Promise<void> };
  /** The job's own journal entries as stored now. */
  readEntries(record: JobRecord): JournalEntry[] | Promise<JournalEntry[]>;
  /** What the job's `journal` field names (a file path, or the download's name). */
  journalName(record: JobRecord): string;
  /** The plan's name in the journal's run entry (its file, or where the browser keeps it). */
  planFile(planId: string): string;
  /** Called with each entry once stored, before the engine goes on (the shim's audit line). */
  seen?(record: JobRecord, e: JournalEntry, states: VmStates): Promise<void>;
}

/** What a job works from: the saved plan (apply) or the journal it rolls back. */
export type JobInput = { kind: 'apply'; plan: PlanAnswer } | { kind: 'rollback'; source: readonly JournalEntry[] };

/** An event as kept for replay: `id` is `<boot>-<seq>`. */
export interface StoredEvent {
  id: string;
  event: JobEvent;
}

export interface JobOptions {
  storage: JobStorage;
  /** PVE base URL, for messages and the journal's run entry. */
  pve: string;
  /** Engine timing knobs (tests). */
  engine?: Partial<EngineOptions>;
  /** The job's journal entries already stored (a past or resumed job). */
  prior: JournalEntry[];
  /** Node of each VM as last known (the plan, or the journal rolled back). */
  nodes: Map<number, string | null>;
}

/** Differs per process (shim) or page (browser): a Last-Event-ID of another one is not replayable. */
const BOOT = Date.now().toString(36);

/** Passes every entry to the store, then (once stored) to `seen`; resolves once `seen`'s work is done too. */
class ObservedJournal implements JournalWriter {
  constructor(
    private readonly inner: JournalWriter,
    private readonly seen: (e: JournalEntry) => Promise<void>,
  ) {}

  get run(): string {
    return this.inner.run;
  }

  async append(entry: NewEntry): Promise<void> {
    await this.inner.append(entry);
    await this.seen({ v: JOURNAL_VERSION, ts: new Date().toISOString(), run: this.inner.run, ...entry } as JournalEntry);
  }
}

export class Job {
  readonly states: VmStates;
  private readonly events: StoredEvent[] = [];
  private readonly listeners = new Set<(e: StoredEvent) => void>();
  private seq = 0;
  private entries: JournalEntry[];
  private abort = new AbortController();
  /** Settles when the current run ends (immediately when not running). */
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly record: JobRecord,
    private readonly input: JobInput,
    private readonly opts: JobOptions,
  ) {
    this.states = new VmStates(record.vmids.map((vmid) => ({ vmid, node: opts.nodes.get(vmid) ?? null })));
    this.entries = opts.prior;
    for (const e of this.entries) this.states.apply(e);
  }

  get id(): string {
    return this.record.id;
  }

  get running(): boolean {
    return this.record.status === 'running';
  }

  /** The journal entries stored so far (the run in progress excepted). */
  get journalEntries(): readonly JournalEntry[] {
    return this.entries;
  }

  /** What the job works from. */
  get source(): JobInput {
    return this.input;
  }

  listItem(): JobListItem {
    const r = this.record;
    return {
      id: r.id,
      kind: r.kind,
      status: r.status,
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
      who: r.who,
      planId: r.planId,
      source: r.source,
      reboot: r.reboot,
      concurrency: r.concurrency,
      perNodeRebootConcurrency: r.perNodeRebootConcurrency,
      continueOnFailure: r.continueOnFailure,
      cancelRequested: r.cancelRequested !== null,
      stopReason: r.stopReason,
      journal: this.opts.storage.journalName(r),
      counts: this.states.counts(),
    };
  }

  view(): JobView {
    return { ...this.listItem(), vms: this.states.list() };
  }

  /** Events after `lastId`, or null when that id is not this process's (send a snapshot). */
  eventsSince(lastId: string): StoredEvent[] | null {
    const [boot, seq] = lastId.split('-');
    if (boot !== BOOT || !/^\d+$/.test(seq ?? '')) return null;
    const n = Number(seq);
    if (n > this.seq) return null;
    return this.events.filter((e) => Number(e.id.split('-')[1]) > n);
  }

  /** A snapshot event with the current id (events after it follow through `subscribe`). */
  snapshot(): StoredEvent {
    return { id: `${BOOT}-${this.seq}`, event: { type: 'snapshot', job: this.view() } };
  }

  subscribe(fn: (e: StoredEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(event: JobEvent): void {
    // Snapshots are built on demand; the buffer keeps transitions only.
    const stored = { id: `${BOOT}-${++this.seq}`, event };
    this.events.push(stored);
    for (const l of this.listeners) l(stored);
  }

  /** Cancel: the VMs in flight finish, no other starts. */
  cancel(who: string): void {
    if (!this.running || this.record.cancelRequested) return;
    this.record.cancelRequested = { at: new Date().toISOString(), who };
    this.record.stopReason = `cancelled by ${who}`;
    this.opts.storage.saveRecord(this.record);
    this.emit({ type: 'job', job: this.listItem() });
  }

  /** Stops the engine at once (the shim is stopping): the job stays `running` and resumes at the next start. */
  halt(): void {
    this.abort.abort(new Error('the shim is stopping'));
  }

  /** Marks the job interrupted (cannot run now), with why. */
  interrupt(reason: string): void {
    this.record.status = 'interrupted';
    this.record.stopReason = reason;
    this.opts.storage.saveRecord(this.record);
    this.emit({ type: 'summary', job: this.listItem() });
  }

  /** Runs (or resumes) the job with `client`; `done` settles when it ends. */
  start(client: PveClient): void {
    this.record.status = 'running';
    if (!this.record.cancelRequested) {
      // A failure before a restart still stops the wave.
      const failed = this.record.continueOnFailure ? undefined : this.states.list().find((v) => v.state === 'failed');
      this.record.stopReason = failed ? firstFailure(failed.vmid, failed.reason) : null;
    }
    this.opts.storage.saveRecord(this.record);
    this.abort = new AbortController();
    this.done = this.run(client);
  }

  private async run(client: PveClient): Promise<void> {
    const { record, opts } = this;
    const { storage } = opts;
    // Resumed after a cancel: the VMs that were in flight finish; none other starts.
    const inFlight = record.cancelRequested ? this.states.inFlight(this.entries) : new Set<number>();
    const file = storage.openWriter(record);
    const writer = new ObservedJournal(file, (e) => this.seen(e));
    const beforeVm = (vmid: number): string | null => {
      if (record.cancelRequested && !inFlight.has(vmid)) return `not started: job cancelled by ${record.cancelRequested.who}`;
      if (!record.cancelRequested && record.stopReason) return `not started: ${record.stopReason}`;
      return null;
    };
    const engine: Partial<EngineOptions> = { ...opts.engine, powerPerNode: record.perNodeRebootConcurrency, beforeVm };
    const common = {
      reboot: record.reboot,
      concurrency: record.concurrency,
      vmids: this.states.remaining(),
      pve: opts.pve,
      engine,
      signal: this.abort.signal,
    };
    try {
      if (common.vmids.length > 0) {
        if (this.input.kind === 'apply') {
          const planId = this.input.plan.id!;
          await applyPlanOnline(client, this.input.plan.plan, { prior: this.entries, writer }, {
            ...common,
            planFile: storage.planFile(planId),
            planHash: planId,
            previewDigest: true,
          });
        } else {
          await rollbackOnline(client, { prior: [...this.input.source, ...this.entries], writer }, common);
        }
      }
      record.status = record.cancelRequested ? 'cancelled' : 'finished';
      record.finishedAt = new Date().toISOString();
      storage.saveRecord(record);
      this.emit({ type: 'summary', job: this.listItem() });
    } catch (err) {
      if (this.abort.signal.aborted) return; // stopping: resumes at the next start
      this.interrupt(`${err instanceof Error ? err.message : String(err)}; resume the job when PVE answers again`);
    } finally {
      await file.close().catch(() => undefined);
      this.entries = await storage.readEntries(record);
    }
  }

  private async seen(e: JournalEntry): Promise<void> {
    const vm: VmJobView | null = this.states.apply(e);
    const side = this.opts.storage.seen?.(this.record, e, this.states) ?? Promise.resolve();
    if (vm) this.emit({ type: 'vm', vm });
    if (e.t === 'vm' && e.result === 'failed' && !this.record.continueOnFailure && !this.record.stopReason) {
      this.record.stopReason = firstFailure(e.vmid, e.reason ?? null);
      this.opts.storage.saveRecord(this.record);
      this.emit({ type: 'job', job: this.listItem() });
    }
    await side;
  }
}

function firstFailure(vmid: number, reason: string | null): string {
  return `the wave stopped at the first failure (VM ${vmid}: ${reason ?? 'failed'}); start a job with continueOnFailure to go on`;
}
