// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Where the shim's jobs keep their records and journals (the job itself, its VM states and
 * events are the core's, src/jobs/job.ts): the record and the JSONL journal in the state
 * directory, and for each write and power action an audit-log line on disk before the engine
 * goes on.
 */
import { Job, type JobInput, type JobStorage } from '../../src/jobs/job.js';
import type { JobRecord } from '../../src/jobs/record.js';
import type { EngineOptions } from '../../src/migration/runner.js';
import { JsonlJournal, readPriorEntries } from '../../src/node/journal.js';
import { AuditTrail, type AuditLog } from './audit-log.js';
import type { JobStore } from './store.js';

export { Job, type StoredEvent } from '../../src/jobs/job.js';

/** What a job needs besides its record. */
export interface JobDeps {
  store: JobStore;
  audit: AuditLog;
  /** PVE base URL, for messages and the journal's run entry. */
  pve: string;
  /** Engine timing knobs (tests). */
  engine?: Partial<EngineOptions>;
  warn: (line: string) => void;
}

/** The state directory as a job's storage; one audit trail per run (it pairs intents with outcomes). */
function fileStorage(deps: JobDeps): JobStorage {
  const trails = new Map<string, AuditTrail>();
  return {
    saveRecord: (record) => deps.store.saveJob(record),
    openWriter: (record) => JsonlJournal.open(deps.store.journalPath(record.id), `${record.kind}-${record.id}-${Date.now().toString(36)}`),
    readEntries: (record) => readPriorEntries(deps.store.journalPath(record.id), deps.warn),
    journalName: (record) => deps.store.journalPath(record.id),
    planFile: (planId) => deps.store.planPath(planId),
    seen: (record, e, states) => {
      let trail = trails.get(e.run);
      if (!trail) {
        trail = new AuditTrail(record.who, record.id, (vmid) => states.get(vmid)?.digestAfter ?? states.get(vmid)?.digestBefore ?? null);
        trails.set(e.run, trail);
      }
      const line = trail.line(e);
      return line ? deps.audit.append(line) : Promise.resolve();
    },
  };
}

/** A job of the shim: its journal and record in the state directory. */
export function shimJob(record: JobRecord, input: JobInput, deps: JobDeps, nodes: Map<number, string | null>): Job {
  return new Job(record, input, {
    storage: fileStorage(deps),
    pve: deps.pve,
    ...(deps.engine ? { engine: deps.engine } : {}),
    prior: readPriorEntries(deps.store.journalPath(record.id), deps.warn),
    nodes,
  });
}
