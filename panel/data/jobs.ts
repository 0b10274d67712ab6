// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's typed client of the shim's plans and jobs API (docs/shim-api.md): preview a plan,
 * start a job from it, follow it live, cancel, list, roll back. Types come from the shim's
 * contract module (type-only: nothing of the shim is bundled).
 *
 * NOTE: the event stream is read with `fetch` and parsed here rather than with `EventSource`:
 * the same code then runs in the browser and in Node tests, and a reconnect sends
 * `Last-Event-ID` itself, so a dropped connection resumes where it stopped instead of repeating.
 */
import type {
  JobEvent,
  JobList,
  JobListItem,
  JobRequest,
  JobView,
  PlanAnswer,
  PlanRequest,
  RollbackRequest,
  VmJobView,
} from '../../api-shim/contracts/jobs.js';

export type { JobEvent, JobListItem, JobRequest, JobView, PlanAnswer, PlanRequest, RollbackRequest, VmJobView };
export type { JobStatus, VmJobState } from '../../api-shim/contracts/jobs.js';

/** The shim refused or failed: `code` is its `DP_…` code (`DP_JOB_CONFLICT`, `DP_AUDIT_READ_ONLY`, …). */
export class JobsApiError extends Error {
  override name = 'JobsApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export interface JobsClientOptions {
  /** `CSRFPreventionToken` from `/dp/config`. */
  csrfToken: string;
  /** Origin of the shim; '' = same origin. */
  base?: string;
  /** Replaceable in tests. */
  fetch?: typeof fetch;
  /** Wait before reconnecting a dropped event stream, ms (default 1000). */
  retryMs?: number;
}

/** Handlers of a job's event stream; `onSummary` is the last call. */
export interface JobSubscription {
  onSnapshot?(job: JobView): void;
  onVm?(vm: VmJobView): void;
  onJob?(job: JobListItem): void;
  onSummary?(job: JobListItem): void;
  /** A stream error; the client reconnects by itself unless the job is unknown. */
  onError?(err: Error): void;
}

export class JobsClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: JobsClientOptions) {
    this.base = opts.base ?? '';
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (method === 'POST') headers.CSRFPreventionToken = this.opts.csrfToken;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.fetch(`${this.base}${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
    const answer = (await res.json().catch(() => null)) as (T & { message?: string; code?: string }) | null;
    if (!res.ok || answer === null) {
      throw new JobsApiError(`${answer?.message ?? res.statusText} (${res.status})`, res.status, answer?.code ?? null);
    }
    return answer;
  }

  /** Reads and plans the VMs (as shown: VMID and node); the answer is what a job will apply. */
  createPlan(req: PlanRequest, signal?: AbortSignal): Promise<PlanAnswer> {
    return this.call('POST', '/dp/plans', req, signal);
  }

  getPlan(id: string, signal?: AbortSignal): Promise<PlanAnswer> {
    return this.call('GET', `/dp/plans/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** Starts applying a saved plan. @throws JobsApiError `DP_JOB_CONFLICT` naming the VM and job when a VM is busy */
  startJob(req: JobRequest, signal?: AbortSignal): Promise<JobView> {
    return this.call('POST', '/dp/jobs', req, signal);
  }

  /** Jobs, newest first (past ones included). */
  async listJobs(signal?: AbortSignal): Promise<JobListItem[]> {
    return (await this.call<JobList>('GET', '/dp/jobs', undefined, signal)).jobs;
  }

  getJob(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.call('GET', `/dp/jobs/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** The VMs in flight finish; no other starts. */
  cancel(id: string): Promise<JobView> {
    return this.call('POST', `/dp/jobs/${encodeURIComponent(id)}/cancel`);
  }

  /** A new job restoring what job `id` wrote (all its VMs, or `req.vmids`). */
  rollback(id: string, req: RollbackRequest): Promise<JobView> {
    return this.call('POST', `/dp/jobs/${encodeURIComponent(id)}/rollback`, req);
  }

  /** Resumes an interrupted job with this user's credentials. */
  resume(id: string): Promise<JobView> {
    return this.call('POST', `/dp/jobs/${encodeURIComponent(id)}/resume`);
  }

  /**
   * Follows a job's events until its summary (or until the returned function is called).
   * Reconnects after a dropped connection with `Last-Event-ID`.
   */
  subscribe(id: string, handlers: JobSubscription): () => void {
    const ctrl = new AbortController();
    void this.follow(id, handlers, ctrl.signal);
    return () => ctrl.abort();
  }

  /** Resolves with the job's summary once it ends; `onEvent` sees every event on the way. */
  waitForEnd(id: string, onEvent?: (e: JobEvent) => void, signal?: AbortSignal): Promise<JobListItem> {
    return new Promise((resolve, reject) => {
      const stop = this.subscribe(id, {
        onSnapshot: (job) => onEvent?.({ type: 'snapshot', job }),
        onVm: (vm) => onEvent?.({ type: 'vm', vm }),
        onJob: (job) => onEvent?.({ type: 'job', job }),
        onSummary: (job) => {
          onEvent?.({ type: 'summary', job });
          resolve(job);
        },
        onError: (err) => {
          if (err instanceof JobsApiError && err.status === 404) reject(err);
        },
      });
      signal?.addEventListener('abort', () => {
        stop();
        reject(signal.reason ?? new Error('aborted'));
      });
    });
  }

  private async follow(id: string, h: JobSubscription, signal: AbortSignal): Promise<void> {
    let lastId: string | null = null;
    for (;;) {
      try {
        const res: Response = await this.fetch(`${this.base}/dp/jobs/${encodeURIComponent(id)}/events`, {
          headers: { accept: 'text/event-stream', ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
          credentials: 'same-origin',
          signal,
        });
        if (!res.ok || !res.body) {
          const body = (await res.json().catch(() => null)) as { message?: string; code?: string } | null;
          const err = new JobsApiError(`${body?.message ?? res.statusText} (${res.status})`, res.status, body?.code ?? null);
          h.onError?.(err);
          if (res.status === 404 || res.status === 403) return;
        } else {
          const stream: AsyncGenerator<RawEvent> = parseEventStream(res.body);
          for await (const e of stream) {
            if (e.id) lastId = e.id;
            if (dispatch(e, h)) return;
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        h.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 1000));
    }
  }
}

interface RawEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Calls the handler of one event; true when it was the summary (the stream is over). */
function dispatch(e: RawEvent, h: JobSubscription): boolean {
  const data = JSON.parse(e.data) as Record<string, unknown>;
  switch (e.event) {
    case 'snapshot':
      h.onSnapshot?.(data.job as JobView);
      return false;
    case 'vm':
      h.onVm?.(data.vm as VmJobView);
      return false;
    case 'job':
      h.onJob?.(data.job as JobListItem);
      return false;
    case 'summary':
      h.onSummary?.(data.job as JobListItem);
      return true;
    default:
      return false;
  }
}

/** The events of a `text/event-stream` body (the WHATWG SSE format: id, event, data lines; blank line ends one). */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let cur: RawEvent = { id: null, event: 'message', data: '' };
  let hasData = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.search(/\r?\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf[nl] === '\r' ? 2 : 1));
      if (line === '') {
        if (hasData) yield cur;
        cur = { id: cur.id, event: 'message', data: '' };
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') cur.id = value;
      else if (field === 'event') cur.event = value;
      else if (field === 'data') {
        cur.data = hasData ? `${cur.data}\n${value}` : value;
        hasData = true;
      }
    }
  }
}

/** "12 written, 3 skipped" from a job's counts, in the order a VM moves through them. */
export function describeJobCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing done';
}
