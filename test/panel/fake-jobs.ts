// SPDX-License-Identifier: AGPL-3.0-or-later
// A jobs API the test drives by hand: it records every call, answers plans with the planner the
// panel uses (optionally edited, to play a VM changed since the preview), and lets the test push
// the job's events.
import type { JobsApi } from '../../panel/data/bulk-apply.js';
import type { JobListItem, JobSubscription, JobView, PlanAnswer, VmJobState, VmJobView } from '../../panel/data/jobs.js';
import { planSelected } from '../../panel/data/plan.js';
import { fleetAudit } from './fleet-fixture.js';

const ZERO: Record<VmJobState, number> = { queued: 0, writing: 0, written: 0, rebooting: 0, verified: 0, skipped: 0, failed: 0 };

export function jobView(id: string, vms: { vmid: number; node: string; state?: VmJobState }[], over: Partial<JobView> = {}): JobView {
  const views: VmJobView[] = vms.map((v) => ({ vmid: v.vmid, node: v.node, state: v.state ?? 'queued', reason: null, outcome: null, digestBefore: null, digestAfter: null }));
  const counts = { ...ZERO };
  for (const v of views) counts[v.state]++;
  return {
    id,
    kind: 'apply',
    status: 'running',
    createdAt: '2026-12-07T10:00:00Z',
    finishedAt: null,
    who: 'root@pam!dp',
    planId: 'plan-1',
    source: null,
    reboot: 'never',
    concurrency: 4,
    perNodeRebootConcurrency: 1,
    continueOnFailure: false,
    cancelRequested: false,
    stopReason: null,
    journal: `/state/journals/${id}.jsonl`,
    counts,
    vms: views,
    ...over,
  };
}

export function fakeJobs(opts: { editPlan?: (p: PlanAnswer) => void; past?: JobView[] } = {}) {
  const calls: { method: string; args: unknown[] }[] = [];
  let handlers: JobSubscription | null = null;
  const started = new Map<string, JobView>();
  const jobs: JobsApi = {
    async createPlan(req) {
      calls.push({ method: 'createPlan', args: [req] });
      const answer: PlanAnswer = {
        id: 'plan-1',
        createdAt: '2026-12-07T10:00:00Z',
        who: 'root@pam!dp',
        plan: planSelected(fleetAudit(), new Set(req.vms.map((v) => v.vmid))),
        alreadyPending: [],
        errors: [],
      };
      opts.editPlan?.(answer);
      return answer;
    },
    async startJob(req) {
      calls.push({ method: 'startJob', args: [req] });
      const audit = fleetAudit();
      const node = (id: number) => audit.report.vms.find((v) => v.vmid === id)!.node!;
      const job = jobView('job-1', (req.vmids ?? []).map((vmid) => ({ vmid, node: node(vmid) })), { reboot: req.reboot, perNodeRebootConcurrency: req.perNodeRebootConcurrency ?? 1 });
      started.set(job.id, job);
      return job;
    },
    subscribe(id, h) {
      calls.push({ method: 'subscribe', args: [id] });
      handlers = h;
      return () => {
        handlers = null;
      };
    },
    async cancel(id) {
      calls.push({ method: 'cancel', args: [id] });
      return jobView(id, [], { cancelRequested: true });
    },
    async listJobs() {
      calls.push({ method: 'listJobs', args: [] });
      return (opts.past ?? []).map(({ vms: _vms, ...item }) => item);
    },
    async getJob(id) {
      calls.push({ method: 'getJob', args: [id] });
      const known = opts.past?.find((j) => j.id === id) ?? started.get(id);
      if (!known) throw new Error(`no job ${id} (404)`);
      return known;
    },
    async rollback(id, req) {
      calls.push({ method: 'rollback', args: [id, req] });
      return jobView('job-2', (req.vmids ?? []).map((vmid) => ({ vmid, node: 'pve1' })), { kind: 'rollback', source: id, reboot: req.reboot });
    },
  };
  return {
    jobs,
    calls,
    of: (method: string) => calls.filter((c) => c.method === method).map((c) => c.args),
    push: {
      vm: (vm: Partial<VmJobView> & { vmid: number }) => {
        const job = [...started.values()].at(-1)!;
        const full: VmJobView = { ...job.vms.find((v) => v.vmid === vm.vmid)!, ...vm };
        job.vms = job.vms.map((v) => (v.vmid === vm.vmid ? full : v));
        handlers?.onVm?.(full);
      },
      summary: (over: Partial<JobListItem> = {}) => {
        const job = [...started.values()].at(-1)!;
        Object.assign(job, { status: 'finished', finishedAt: '2026-12-07T10:05:00Z' }, over);
        const { vms: _vms, ...item } = job;
        handlers?.onSummary?.(item);
      },
    },
    subscribed: () => handlers !== null,
  };
}
