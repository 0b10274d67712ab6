// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Where the shim keeps plans and jobs, under its state directory (dir 0700, files 0600, as the
 * plans hold every disk's config and the journals every previous value):
 *
 *     plans/<id>.json        a saved plan (PlanAnswer) - what a job applies
 *     jobs/<id>.json         a job's request and status (JobRecord)
 *     jobs/<id>.jsonl        its journal (the CLI's format: `rollback --journal` reads it)
 *     audit.jsonl            one line per write and power action, by whom
 *
 * Records are replaced atomically (write a temporary file, fsync, rename), so a kill leaves the
 * old or the new record, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { JobListItem, PlanAnswer } from '../contracts/jobs.js';

/** A job as kept on disk: the request, who made it, and its status (the API's fields, and the VMs). */
export interface JobRecord
  extends Pick<
    JobListItem,
    'id' | 'kind' | 'createdAt' | 'finishedAt' | 'who' | 'planId' | 'source' | 'reboot' | 'concurrency' | 'perNodeRebootConcurrency' | 'continueOnFailure' | 'status' | 'stopReason'
  > {
  /** The VMs the job works on, ascending. */
  vmids: number[];
  /** Those it may write to or reboot (its lock set: one job per VM at a time). */
  locked: number[];
  cancelRequested: { at: string; who: string } | null;
}

/**
 * A new id: time first (so names sort by age) then randomness, e.g. `j-lz8k2m1c-4f9a0b2c`.
 * Only `[a-z0-9-]`: it names files.
 */
export function newId(prefix: 'p' | 'j'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

const ID = /^[a-z0-9-]{1,64}$/;

export class JobStore {
  readonly plansDir: string;
  readonly jobsDir: string;
  readonly auditLogPath: string;

  constructor(readonly root: string) {
    this.plansDir = join(root, 'plans');
    this.jobsDir = join(root, 'jobs');
    this.auditLogPath = join(root, 'audit.jsonl');
    for (const dir of [root, this.plansDir, this.jobsDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing directory as it was: a state dir made 0755 by hand is tightened.
      chmodSync(dir, 0o700);
    }
  }

  savePlan(plan: PlanAnswer & { id: string }): void {
    writeAtomic(join(this.plansDir, `${plan.id}.json`), `${JSON.stringify(plan, null, 2)}\n`);
  }

  /** The saved plan, or null when there is none by that id. */
  loadPlan(id: string): PlanAnswer | null {
    if (!ID.test(id)) return null;
    const path = join(this.plansDir, `${id}.json`);
    if (!existsSync(path)) return null;
    return JSON.parse(readFileSync(path, 'utf8')) as PlanAnswer;
  }

  planPath(id: string): string {
    return join(this.plansDir, `${id}.json`);
  }

  journalPath(jobId: string): string {
    return join(this.jobsDir, `${jobId}.jsonl`);
  }

  saveJob(job: JobRecord): void {
    writeAtomic(join(this.jobsDir, `${job.id}.json`), `${JSON.stringify(job, null, 2)}\n`);
  }

  /** Every job record on disk; unreadable ones are reported through `warn` and left alone. */
  loadJobs(warn: (line: string) => void): JobRecord[] {
    const out: JobRecord[] = [];
    for (const f of readdirSync(this.jobsDir)) {
      if (!f.endsWith('.json') || !ID.test(f.slice(0, -5))) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.jobsDir, f), 'utf8')) as JobRecord);
      } catch (err) {
        warn(`job record ${join(this.jobsDir, f)} is not readable (${(err as Error).message}); ignored`);
      }
    }
    return out;
  }
}

/** Replaces `path` with `text` (0600) so that a crash leaves either the old or the new file. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
