// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The shim's jobs: saved plans, jobs started from them, rollbacks, one job per VM at a time, and
 * at start-up every job found on disk (past ones listed, unfinished ones resumed).
 */
import type { PveClient } from '../../src/api/client.js';
import { planFromRequest } from '../../src/jobs/plan-request.js';
import { JobError, applyTargets, newRecord, nodesOf, planNodes, refuseBusy, rollbackTargets } from '../../src/jobs/record.js';
import type { JournalEntry } from '../../src/migration/journal-model.js';
import { readPriorEntries } from '../../src/node/journal.js';
import type { JobRequest, PlanAnswer, PlanRequest, RollbackRequest, RunRequest } from '../contracts/jobs.js';
import { AuditLog } from './audit-log.js';
import { type Job, type JobDeps, shimJob } from './job.js';
import { type JobRecord, JobStore, newId } from './store.js';

/** A refusal the routes turn into a coded HTTP error. */
export { JobError };

export interface JobManagerOptions {
  stateDir: string;
  pve: string;
  engine?: JobDeps['engine'];
  warn: (line: string) => void;
}

/** Default VMs in flight per job (the CLI's default). */
export const DEFAULT_JOB_CONCURRENCY = 4;

export class JobManager {
  private readonly store: JobStore;
  private readonly deps: JobDeps;
  private readonly jobs = new Map<string, Job>();
  /** VMID → id of the running job that holds it. */
  private readonly locks = new Map<number, string>();

  constructor(private readonly opts: JobManagerOptions) {
    this.store = new JobStore(opts.stateDir);
    this.deps = {
      store: this.store,
      audit: new AuditLog(this.store.auditLogPath),
      pve: opts.pve,
      warn: opts.warn,
      ...(opts.engine ? { engine: opts.engine } : {}),
    };
  }

  get auditLogPath(): string {
    return this.store.auditLogPath;
  }

  /**
   * Loads every job on disk. Unfinished ones resume with `clientFor(who)`; when it gives none
   * (a login user with no session now), the job is marked interrupted until resumed by hand.
   */
  resumeAll(clientFor: (who: string) => PveClient | null): void {
    const records = this.store.loadJobs(this.opts.warn);
    const holder = records.some((r) => r.status === 'running') ? this.store.acquireRunLock() : null;
    if (holder !== null) this.opts.warn(`jobs in ${this.store.jobsDir} are run by another shim (pid ${holder}); this one lists them and resumes none`);
    for (const record of records) {
      let job: Job;
      try {
        job = this.load(record);
      } catch (err) {
        this.opts.warn(`job ${record.id}: ${(err as Error).message}; left as it is`);
        continue;
      }
      this.jobs.set(job.id, job);
      if (record.status !== 'running' || holder !== null) continue;
      const client = clientFor(record.who);
      if (!client) {
        job.interrupt(`the shim restarted and has no credentials of ${record.who} to resume it; resume it after signing in`);
        continue;
      }
      this.lock(job);
      this.run(job, client);
    }
  }

  private load(record: JobRecord): Job {
    if (record.kind === 'apply') {
      const plan = record.planId ? this.store.loadPlan(record.planId) : null;
      if (!plan) throw new Error(`its plan ${record.planId ?? '(none)'} is missing from ${this.store.plansDir}`);
      return shimJob(record, { kind: 'apply', plan }, this.deps, planNodes(plan));
    }
    const source = this.sourceEntries(record.source!);
    return shimJob(record, { kind: 'rollback', source }, this.deps, nodesOf(source));
  }

  private sourceEntries(jobId: string): JournalEntry[] {
    return readPriorEntries(this.store.journalPath(jobId), this.opts.warn);
  }

  /** Reads and plans `req.vms` (nothing written to PVE); saved unless `readOnly`. */
  async createPlan(client: PveClient, req: PlanRequest, who: string, readOnly: boolean): Promise<PlanAnswer> {
    const answer: PlanAnswer = { id: readOnly ? null : newId('p'), ...(await planFromRequest(client, req, who, this.opts.pve)) };
    if (answer.id) this.store.savePlan({ ...answer, id: answer.id });
    return answer;
  }

  getPlan(id: string): PlanAnswer {
    const plan = this.store.loadPlan(id);
    if (!plan) throw new JobError('not-found', `no plan ${id} in ${this.store.plansDir}: preview the VMs again`);
    return plan;
  }

  /** Starts a job applying a saved plan. */
  startApply(client: PveClient, req: JobRequest, who: string): Job {
    const plan = this.getPlan(req.planId);
    const record = this.newRecord('apply', req, who, applyTargets(plan, req.planId, req.vmids), { planId: req.planId, source: null });
    const job = shimJob(record, { kind: 'apply', plan }, this.deps, planNodes(plan));
    return this.begin(job, client);
  }

  /** Starts a job restoring what job `sourceId` wrote (all its VMs, or `req.vmids`). */
  startRollback(client: PveClient, sourceId: string, req: RollbackRequest, who: string): Job {
    const sourceJob = this.get(sourceId);
    const source = this.sourceEntries(sourceId);
    const vmids = rollbackTargets(sourceJob.record, source, req.vmids);
    const record = this.newRecord('rollback', req, who, { vmids, locked: vmids }, { planId: null, source: sourceId });
    const job = shimJob(record, { kind: 'rollback', source }, this.deps, nodesOf(source));
    return this.begin(job, client);
  }

  private newRecord(kind: 'apply' | 'rollback', req: RunRequest, who: string, vms: { vmids: number[]; locked: number[] }, ref: { planId: string | null; source: string | null }): JobRecord {
    return newRecord(newId('j'), kind, req, who, vms, ref, DEFAULT_JOB_CONCURRENCY);
  }

  /** Refuses when a VM is in a running job; else locks, saves and runs. */
  private begin(job: Job, client: PveClient): Job {
    this.runLock();
    refuseBusy(job.record, this.locks);
    this.store.saveJob(job.record);
    this.jobs.set(job.id, job);
    this.lock(job);
    this.run(job, client);
    return job;
  }

  /** One shim process runs the jobs of a state directory (see `JobStore.acquireRunLock`). */
  private runLock(): void {
    const holder = this.store.acquireRunLock();
    if (holder !== null) {
      throw new JobError('conflict', `another shim (pid ${holder}) runs the jobs of ${this.store.root}; start jobs there, or give this one its own state directory`);
    }
  }

  private lock(job: Job): void {
    for (const id of job.record.locked) this.locks.set(id, job.id);
  }

  private run(job: Job, client: PveClient): void {
    job.start(client);
    void job.done.finally(() => {
      if (job.running) return; // halted by close(): stays locked until the process ends
      for (const id of job.record.locked) if (this.locks.get(id) === job.id) this.locks.delete(id);
    });
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new JobError('not-found', `no job ${id}`);
    return job;
  }

  /** Newest first. */
  list(): Job[] {
    return [...this.jobs.values()].sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt) || b.id.localeCompare(a.id));
  }

  cancel(id: string, who: string): Job {
    const job = this.get(id);
    if (!job.running) throw new JobError('conflict', `job ${id} is ${job.record.status}: nothing to cancel`);
    job.cancel(who);
    return job;
  }

  /** Resumes an interrupted job with the caller's credentials. */
  resume(id: string, client: PveClient): Job {
    const job = this.get(id);
    if (job.record.status !== 'interrupted') throw new JobError('conflict', `job ${id} is ${job.record.status}: only an interrupted job resumes`);
    this.runLock();
    const busy = job.record.locked.filter((v) => this.locks.has(v));
    if (busy.length > 0) throw new JobError('conflict', `VM ${busy[0]} is in running job ${this.locks.get(busy[0]!)}; resume this job when it ends`);
    this.lock(job);
    this.run(job, client);
    return job;
  }

  /** Stops every running job's engine at once (the shim is closing); they resume at the next start. */
  async close(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.running);
    for (const j of running) j.halt();
    await Promise.allSettled(running.map((j) => j.done));
    await this.deps.audit.close();
    this.store.releaseRunLock();
  }
}

