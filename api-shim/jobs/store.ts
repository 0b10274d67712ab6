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
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { JobRecord } from '../../src/jobs/record.js';
import type { PlanAnswer } from '../contracts/jobs.js';

export type { JobRecord };

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

  readonly lockPath: string;
  private made = false;
  private locked = false;

  constructor(readonly root: string) {
    this.plansDir = join(root, 'plans');
    this.jobsDir = join(root, 'jobs');
    this.auditLogPath = join(root, 'audit.jsonl');
    this.lockPath = join(root, 'jobs.lock');
  }

  /** Creates the directories (0700) on first use: a shim that never plans writes nothing. */
  ensure(): void {
    if (this.made) return;
    for (const dir of [this.root, this.plansDir, this.jobsDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing directory as it was: a state dir made 0755 by hand is tightened.
      chmodSync(dir, 0o700);
    }
    this.made = true;
  }

  /**
   * Takes the right to run jobs from this state directory for the life of this process, so two
   * shims on one directory never both resume a job. A lock left by a dead process is taken over.
   * @returns null when taken (or already held), else the pid of the live process holding it
   */
  acquireRunLock(): number | null {
    if (this.locked) return null;
    this.ensure();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.locked = true;
        return null;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(readFileSync(this.lockPath, 'utf8').trim());
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) return holder;
        unlinkSync(this.lockPath);
      }
    }
    return -1;
  }

  releaseRunLock(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }

  savePlan(plan: PlanAnswer & { id: string }): void {
    this.ensure();
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
    this.ensure();
    writeAtomic(join(this.jobsDir, `${job.id}.json`), `${JSON.stringify(job, null, 2)}\n`);
  }

  /** Every job record on disk; unreadable ones are reported through `warn` and left alone. */
  loadJobs(warn: (line: string) => void): JobRecord[] {
    const out: JobRecord[] = [];
    if (!existsSync(this.jobsDir)) return out;
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
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
