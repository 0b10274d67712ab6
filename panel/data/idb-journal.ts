// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the PVE web UI's jobs keep in IndexedDB (panel/data/browser-jobs.ts): saved plans, job
 * records, and each job's journal, the same entries `pve-dataplane apply` appends to its JSONL
 * file (src/node/journal.ts). Journals of earlier versions' VM tab (one per Apply, rollbacks
 * appended) stay readable for their download.
 *
 * NOTE: `append` resolves when its transaction is committed (`durability: 'strict'` where the
 * browser supports it, so the entry survives a crash of the browser too): the engine writes an
 * intent before each PVE request and the outcome after it, so a page closed mid-write leaves an
 * intent without an outcome, as a killed CLI process does.
 */
import { JOURNAL_VERSION, type JournalEntry, type NewEntry, type RebootPolicy } from '../../src/migration/journal-model.js';
import type { JournalWriter } from '../../src/migration/runner.js';
import type { MigrationPlan } from '../../src/migration/types.js';
import type { JobRecord } from '../../src/jobs/record.js';
import type { PlanAnswer } from '../../src/jobs/types.js';

/** Database name (per origin: one per PVE host the UI is opened on). */
export const JOURNAL_DB = 'pve-dataplane';
/** 1: journals and entries (earlier versions' VM tab); 2: plans and jobs (every tab's apply). */
const DB_VERSION = 2;
const META = 'journals';
const ENTRIES = 'entries';
const PLANS = 'plans';
const JOBS = 'jobs';

/** What earlier versions kept beside a VM tab's journal (read for the download only). */
export interface JournalMeta {
  /** `pve-ui-<time>-<random>`, also the exported file's name. */
  id: string;
  /** ISO-8601 time of the Apply. */
  created: string;
  /** The plan as previewed and applied (the digests the writes carry). */
  plan: MigrationPlan;
  /** The VMs Apply acted on. */
  vmids: number[];
  reboot: RebootPolicy;
  /** Reboots at once per node (`reboot: now`). */
  perNode: number;
  /** The PVE user that applied (`Proxmox.UserName`), for the list. */
  user: string;
}

interface EntryRecord {
  journal: string;
  entry: JournalEntry;
}

function requestDone<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function txDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

/** A random id part (crypto.randomUUID needs a secure context; PVE is https, tests on localhost). */
export function randomPart(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** The journals of this origin in IndexedDB. */
export class IdbJournalStore {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (creates) the database. */
  static async open(name = JOURNAL_DB): Promise<IdbJournalStore> {
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(ENTRIES)) {
        // Auto-increment keys keep append order, as the lines of a JSONL file do.
        db.createObjectStore(ENTRIES, { autoIncrement: true }).createIndex('journal', 'journal');
      }
      // A job's journal entries go to ENTRIES under the job's id, as a VM-tab journal's do.
      if (!db.objectStoreNames.contains(PLANS)) db.createObjectStore(PLANS, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(JOBS)) db.createObjectStore(JOBS, { keyPath: 'id' });
    };
    const opened = requestDone(req);
    // An upgrade waits for every other connection to close: this version's tabs close theirs
    // (below); a tab still running an earlier version's bundle keeps it until reloaded.
    const blocked = new Promise<never>((_, reject) => {
      req.onblocked = () => {
        // The upgrade still happens once that tab is gone; this connection is not used then.
        void opened.then((db) => db.close(), () => undefined);
        reject(new Error('another tab of this PVE web UI runs an earlier pve-dataplane and holds its journals open; reload or close that tab'));
      };
    });
    const db = await Promise.race([opened, blocked]);
    db.onversionchange = () => db.close();
    return new IdbJournalStore(db);
  }

  close(): void {
    this.db.close();
  }

  private tx(stores: string[], mode: IDBTransactionMode): IDBTransaction {
    // `durability` is a Chromium/Firefox option; older engines ignore the third argument.
    return this.db.transaction(stores, mode, { durability: 'strict' } as IDBTransactionOptions);
  }

  /** Every journal's meta, newest first. */
  async list(): Promise<JournalMeta[]> {
    const tx = this.tx([META], 'readonly');
    const all = await requestDone(tx.objectStore(META).getAll() as IDBRequest<JournalMeta[]>);
    return all.sort((a, b) => b.created.localeCompare(a.created));
  }

  /** The entries of a job's (or an earlier VM tab's) journal in append order. */
  async entries(id: string): Promise<JournalEntry[]> {
    const tx = this.tx([ENTRIES], 'readonly');
    const records = await requestDone(tx.objectStore(ENTRIES).index('journal').getAll(IDBKeyRange.only(id)) as IDBRequest<EntryRecord[]>);
    // An index returns records in index-key order, then primary-key (append) order.
    return records.map((r) => r.entry);
  }

  /** Saves a plan a job may apply (its `id` set). */
  async putPlan(plan: PlanAnswer): Promise<void> {
    const tx = this.tx([PLANS], 'readwrite');
    tx.objectStore(PLANS).put(plan);
    await txDone(tx);
  }

  async plan(id: string): Promise<PlanAnswer | null> {
    const tx = this.tx([PLANS], 'readonly');
    return ((await requestDone(tx.objectStore(PLANS).get(id))) as PlanAnswer | undefined) ?? null;
  }

  /**
   * Replaces a job's record. The record is copied when called (IndexedDB clones on `put`), so a
   * caller may go on changing it; records saved one after the other commit in that order.
   */
  putJob(record: JobRecord): Promise<void> {
    const tx = this.tx([JOBS], 'readwrite');
    tx.objectStore(JOBS).put(record);
    return txDone(tx);
  }

  /** Every job's record. */
  async jobs(): Promise<JobRecord[]> {
    const tx = this.tx([JOBS], 'readonly');
    return requestDone(tx.objectStore(JOBS).getAll() as IDBRequest<JobRecord[]>);
  }

  /**
   * A writer appending to journal `id` under a fresh run id (`apply-…`/`rollback-…`, as the CLI
   * names its runs). Each `append` is one committed transaction.
   */
  writer(id: string, kind: 'apply' | 'rollback'): JournalWriter & { close(): Promise<void> } {
    const run = `${kind}-${randomPart()}`;
    return {
      run,
      // Each append is committed on its own: nothing to flush.
      close: () => Promise.resolve(),
      append: async (e: NewEntry): Promise<void> => {
        // The same object, and key order, as a JSONL line of src/node/journal.ts.
        const entry = { v: JOURNAL_VERSION, ts: new Date().toISOString(), run, ...e } as JournalEntry;
        const tx = this.tx([ENTRIES], 'readwrite');
        tx.objectStore(ENTRIES).add({ journal: id, entry } satisfies EntryRecord);
        await txDone(tx);
      },
    };
  }
}

/** The journal as the JSONL text `pve-dataplane rollback --journal FILE` reads. */
export function journalJsonl(entries: readonly JournalEntry[]): string {
  return entries.map((e) => JSON.stringify(e) + '\n').join('');
}
