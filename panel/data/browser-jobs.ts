// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The jobs API (`JobsApi`, what `<dp-fleet-view>` applies and rolls back through) run in the
 * browser, for the PVE web UI's Datacenter and Node tabs: the core's jobs (src/jobs: the same
 * state machine, start rules and plan of a request as the shim's) on the user's own PVE session,
 * with plans, job records and journals in IndexedDB.
 *
 * A job runs while its page is open, holding a Web Lock of its own (one runner per job across
 * this browser's tabs). A page closed mid-run leaves the job `running` in IndexedDB with no
 * holder: the next page lists it `interrupted`, and Resume continues it from its journal (the
 * engine checks a write left in flight against PVE first).
 */
import type { PveClient } from '../../src/api/client.js';
import { Job, type JobStorage } from '../../src/jobs/job.js';
import { planFromRequest } from '../../src/jobs/plan-request.js';
import { type JobRecord, JobError, applyTargets, newRecord, nodesOf, planNodes, refuseBusy, rollbackTargets } from '../../src/jobs/record.js';
import type { JobListItem, JobRequest, JobView, PlanAnswer, PlanRequest, RollbackRequest } from '../../src/jobs/types.js';
import type { JournalEntry } from '../../src/migration/journal-model.js';
import type { EngineOptions } from '../../src/migration/runner.js';
import type { JobsApi } from './bulk-apply.js';
import { type IdbJournalStore, journalJsonl, randomPart } from './idb-journal.js';
import type { JobSubscription } from './jobs.js';

/** VMs in flight at once: pveproxy has few workers and the user's own UI polls too. */
export const BROWSER_JOB_CONCURRENCY = 2;

/** Why a job found `running` with no page running it is listed interrupted. */
export const PAGE_CLOSED = 'the page running it was closed or reloaded; Resume continues it from the journal kept in this browser';

export interface BrowserJobsOptions {
  /** The PVE user (`Proxmox.UserName`), recorded as who started a job. */
  who: string;
  /** PVE's address for the journal's run entry (default: this page's origin). */
  pve?: string;
  /** Engine timings (tests on the simulator's fast clock). */
  engine?: Partial<EngineOptions>;
}

/** Web Locks, where the browser has them (every current one in a secure context). */
function webLocks(): LockManager | null {
  return (globalThis.navigator as Navigator | undefined)?.locks ?? null;
}

const lockName = (id: string): string => `pve-dataplane-job-${id}`;

/** The browser's jobs: a `JobsApi` over the core's jobs and IndexedDB. */
export class BrowserJobs implements JobsApi {
  private readonly jobs = new Map<string, Job>();
  /** VMID → id of the job running it in this page. */
  private readonly locks = new Map<number, string>();
  private loaded: Promise<void> | null = null;

  constructor(
    private readonly client: PveClient,
    private readonly store: IdbJournalStore,
    private readonly opts: BrowserJobsOptions,
  ) {}

  private get pve(): string {
    return this.opts.pve ?? globalThis.location?.origin ?? '';
  }

  private storage(): JobStorage {
    return {
      saveRecord: (record) => {
        void this.store.putJob(record).catch((err: unknown) => console.warn(`pve-dataplane: job ${record.id} not saved`, err));
      },
      openWriter: (record) => this.store.writer(record.id, record.kind),
      readEntries: (record) => this.store.entries(record.id),
      journalName: (record) => `${record.id}.jsonl`,
      planFile: (planId) => `indexeddb:${planId}`,
    };
  }

  private async job(record: JobRecord): Promise<Job> {
    const prior = await this.store.entries(record.id);
    const common = { storage: this.storage(), pve: this.pve, prior, ...(this.opts.engine ? { engine: this.opts.engine } : {}) };
    if (record.kind === 'apply') {
      const plan = record.planId ? await this.store.plan(record.planId) : null;
      if (!plan) throw new Error(`its plan ${record.planId ?? '(none)'} is not in this browser's IndexedDB`);
      return new Job(record, { kind: 'apply', plan }, { ...common, nodes: planNodes(plan) });
    }
    const source = await this.store.entries(record.source!);
    return new Job(record, { kind: 'rollback', source }, { ...common, nodes: nodesOf(source) });
  }

  /** Loads the jobs kept in IndexedDB once; one found running that no tab runs is interrupted. */
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      for (const record of await this.store.jobs()) {
        if (this.jobs.has(record.id)) continue;
        let job: Job;
        try {
          job = await this.job(record);
        } catch (err) {
          console.warn(`pve-dataplane: job ${record.id}: ${(err as Error).message}; left as it is`);
          continue;
        }
        this.jobs.set(job.id, job);
        if (record.status === 'running' && !(await this.heldElsewhere(record.id))) job.interrupt(PAGE_CLOSED);
      }
    })();
    return this.loaded;
  }

  /** True when another tab holds the job's lock (it runs there). */
  private async heldElsewhere(id: string): Promise<boolean> {
    const locks = webLocks();
    if (!locks) return false;
    const { held } = await locks.query();
    return (held ?? []).some((l) => l.name === lockName(id));
  }

  private async get(id: string): Promise<Job> {
    await this.load();
    const job = this.jobs.get(id);
    if (!job) throw new JobError('not-found', `no job ${id} in this browser`);
    return job;
  }

  async createPlan(req: PlanRequest): Promise<PlanAnswer> {
    const answer: PlanAnswer = { id: `p-${Date.now().toString(36)}-${randomPart().slice(0, 8)}`, ...(await planFromRequest(this.client, req, this.opts.who, this.pve)) };
    await this.store.putPlan(answer);
    return answer;
  }

  async startJob(req: JobRequest): Promise<JobView> {
    await this.load();
    const plan = await this.store.plan(req.planId);
    if (!plan) throw new JobError('not-found', `no plan ${req.planId} in this browser: preview the VMs again`);
    const record = newRecord(newJobId(), 'apply', req, this.opts.who, applyTargets(plan, req.planId, req.vmids), { planId: req.planId, source: null }, BROWSER_JOB_CONCURRENCY);
    return this.begin(await this.job(record));
  }

  async rollback(id: string, req: RollbackRequest): Promise<JobView> {
    const source = await this.get(id);
    const vmids = rollbackTargets(source.record, source.journalEntries, req.vmids);
    const record = newRecord(newJobId(), 'rollback', req, this.opts.who, { vmids, locked: vmids }, { planId: null, source: id }, BROWSER_JOB_CONCURRENCY);
    return this.begin(await this.job(record));
  }

  /** Resumes a job the page closed on (or that stopped on an error). */
  async resume(id: string): Promise<JobView> {
    const job = await this.get(id);
    if (job.record.status !== 'interrupted') throw new JobError('conflict', `job ${id} is ${job.record.status}: only an interrupted job resumes`);
    refuseBusy(job.record, this.locks);
    await this.run(job);
    return job.view();
  }

  async cancel(id: string): Promise<JobView> {
    const job = await this.get(id);
    if (!job.running) throw new JobError('conflict', `job ${id} is ${job.record.status}: nothing to cancel`);
    job.cancel(this.opts.who);
    return job.view();
  }

  async listJobs(): Promise<JobListItem[]> {
    await this.load();
    return [...this.jobs.values()].sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt) || b.id.localeCompare(a.id)).map((j) => j.listItem());
  }

  async getJob(id: string): Promise<JobView> {
    return (await this.get(id)).view();
  }

  /**
   * The job's journal as the JSONL `pve-dataplane rollback --journal FILE` reads; a rollback's
   * comes after the journal of the apply it restored (what the CLI's rollback appends to).
   */
  async journalText(id: string): Promise<string> {
    const job = await this.get(id);
    const own = await this.store.entries(id);
    const source = job.source.kind === 'rollback' ? job.source.source : [];
    return journalJsonl([...source, ...own] as JournalEntry[]);
  }

  /** Follows a job as the shim's event stream does: snapshot, transitions, summary last. */
  subscribe(id: string, h: JobSubscription): () => void {
    let stop = (): void => undefined;
    let stopped = false;
    void this.get(id).then(
      (job) => {
        if (stopped) return;
        h.onSnapshot?.(job.view());
        if (!job.running) {
          h.onSummary?.(job.listItem());
          return;
        }
        stop = job.subscribe(({ event: e }) => {
          if (e.type === 'vm') h.onVm?.(e.vm);
          else if (e.type === 'job') h.onJob?.(e.job);
          else if (e.type === 'summary') {
            stop();
            h.onSummary?.(e.job);
          }
        });
      },
      (err: unknown) => h.onError?.(err instanceof Error ? err : new Error(String(err))),
    );
    return () => {
      stopped = true;
      stop();
    };
  }

  /** Refuses when a VM is in a running job; else saves, locks and runs. */
  private async begin(job: Job): Promise<JobView> {
    refuseBusy(job.record, this.locks);
    await this.store.putJob(job.record);
    this.jobs.set(job.id, job);
    await this.run(job);
    return job.view();
  }

  /** Starts the job under its Web Lock; resolves once it runs (the lock is released when it ends). */
  private run(job: Job): Promise<void> {
    for (const vmid of job.record.locked) this.locks.set(vmid, job.id);
    const release = (): void => {
      for (const vmid of job.record.locked) if (this.locks.get(vmid) === job.id) this.locks.delete(vmid);
    };
    const locks = webLocks();
    if (!locks) {
      job.start(this.client);
      void job.done.finally(release);
      return Promise.resolve();
    }
    return new Promise((started, refused) => {
      void locks
        .request(lockName(job.id), { ifAvailable: true }, async (lock) => {
          if (!lock) {
            release();
            refused(new JobError('conflict', `job ${job.id} runs in another tab of this browser; follow it there`));
            return;
          }
          job.start(this.client);
          started();
          await job.done;
        })
        .finally(release);
    });
  }
}

function newJobId(): string {
  return `j-${Date.now().toString(36)}-${randomPart().slice(0, 8)}`;
}
