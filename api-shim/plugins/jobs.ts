// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The shim's own write endpoints: saved plans and jobs (docs/shim-api.md).
 *
 *     POST /dp/plans                  read and plan VMs; save the plan (its digests are what a job writes against)
 *     GET  /dp/plans/:id
 *     POST /dp/jobs                   apply a saved plan: reboot policy, concurrency, per-node reboots
 *     GET  /dp/jobs                   newest first, past jobs on disk included
 *     GET  /dp/jobs/:id
 *     GET  /dp/jobs/:id/events        Server-Sent Events: snapshot, per-VM transitions, summary
 *     POST /dp/jobs/:id/cancel        the VMs in flight finish, no other starts
 *     POST /dp/jobs/:id/rollback      a new job restoring what this one wrote
 *     POST /dp/jobs/:id/resume        an interrupted job, with the caller's credentials
 *
 * Every POST needs the CSRF token. `--read-only` refuses every job endpoint that writes; a plan
 * can still be previewed (it reads only) but is not saved, so nothing can apply it.
 *
 * The upstream client is taken per request (`clientFor`): the shim's token, or in login mode
 * the user's own PVE ticket, so PVE's ACLs decide what each user may read and change.
 *
 * Whose plans and jobs a signed-in user reaches follows PVE's task list (pve-manager
 * PVE/API2/Tasks.pm): their own; everybody's with Sys.Audit on /nodes to see them, and with
 * Sys.Modify on /nodes to cancel, roll back or resume them (a job spans nodes, so the privilege on
 * all of them). With the shim's token every job is that token's.
 */
import Ajv from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PveClient } from '../../src/api/client.js';
import { MigrationReadError } from '../../src/migration/online.js';
import type { EngineOptions } from '../../src/migration/runner.js';
import {
  type JobRequest,
  type PlanRequest,
  type RollbackRequest,
  errorSchema,
  idParamsSchema,
  jobListSchema,
  jobRequestSchema,
  jobViewSchema,
  planAnswerSchema,
  planRequestSchema,
  rollbackRequestSchema,
} from '../contracts/jobs.js';
import { fetchPermissions } from '../../src/api/endpoints/access.js';
import { hasPrivilege } from '../../src/pve/permissions.js';
import { DP_BAD_REQUEST, DP_JOB_CONFLICT, DP_JOB_FORBIDDEN, DP_NOT_FOUND, DP_UPSTREAM_UNREACHABLE, sendShimError } from '../errors.js';
import { JobError, JobManager } from '../jobs/manager.js';
import type { StoredEvent } from '../jobs/job.js';
import type { ResolvedShimOptions } from '../options.js';
import { createUpstreamClient } from '../upstream-client.js';
import { sessionOf } from '../session-of.js';
import { refuseWrite } from '../write-guard.js';

export interface JobsPluginOptions extends ResolvedShimOptions {
  /** The PVE client a request acts with (default: the shim's token). */
  clientFor?: (request: FastifyRequest) => PveClient;
  /** Who a request is, for the audit log and job records (default: the token id). */
  whoFor?: (request: FastifyRequest) => string;
  /** A client acting as `who` to resume that user's jobs after a restart; null when there is none. */
  clientForUser?: (who: string) => PveClient | null;
  /** Engine timing knobs (tests, benchmarks). */
  jobEngine?: Partial<EngineOptions>;
}

type IdParams = { Params: { id: string } };

/** Reaching another user's job takes this privilege on /nodes: to see it, or to act on it. */
type OthersPrivilege = 'Sys.Audit' | 'Sys.Modify';

/** A job or plan outside the caller's reach. */
class ForbiddenJob extends Error {}

/** SSE comment sent this often so proxies keep an idle stream open (ms). */
const KEEPALIVE_MS = 15_000;

export async function jobsRoutes(app: FastifyInstance, opts: JobsPluginOptions): Promise<void> {
  const pve = opts.upstream.origin;
  let tokenClient: PveClient | null = null;
  const shimClient = (): PveClient => (tokenClient ??= createUpstreamClient(opts));
  const clientFor = opts.clientFor ?? (() => shimClient());
  // In login mode the signed-in PVE user; the login wiring passes `clientFor` acting as that user.
  const whoFor = opts.whoFor ?? ((request: FastifyRequest) => sessionOf(request)?.userid ?? opts.token?.tokenId ?? 'unknown');
  // Login mode: sessions do not survive a restart, so a user's job resumes once they sign in again.
  const clientForUser = opts.clientForUser ?? ((who: string) => (opts.token && who === opts.token.tokenId ? shimClient() : null));

  const manager = new JobManager({ stateDir: opts.stateDir, pve, warn: opts.warn, ...(opts.jobEngine ? { engine: opts.jobEngine } : {}) });
  // A read-only shim never writes, not even to finish a job a writable one started.
  manager.resumeAll(opts.readOnly ? () => null : clientForUser);
  app.addHook('onClose', async () => manager.close());

  // Bodies are checked exactly as declared: no coercion ("100" is not a VMID), no silent removal
  // of unknown fields (a misspelt option is an error, not a default).
  const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  app.setErrorHandler((err: Error & { validation?: unknown; validationContext?: string; statusCode?: number }, request, reply) => {
    if (err.validation) return sendShimError(reply, DP_BAD_REQUEST, `${request.method} ${request.routeOptions.url}: ${err.message}`);
    if (err.statusCode && err.statusCode < 500) return sendShimError(reply, { code: DP_BAD_REQUEST.code, status: err.statusCode }, err.message);
    request.log.error(err);
    return sendShimError(reply, { code: 'DP_INTERNAL', status: 500 }, `${request.method} ${request.routeOptions.url}: ${err.message}`);
  });

  /**
   * Whose plans and jobs this request reaches (see the header): every one with the shim's token;
   * in login mode the user's own, or everybody's with `privilege` on /nodes (asked of PVE as that
   * user; an unreadable answer grants nothing beyond their own).
   */
  const reach = async (request: FastifyRequest, privilege: OthersPrivilege, owners: readonly string[]): Promise<(owner: string) => boolean> => {
    const me = sessionOf(request)?.userid;
    // Without a session: the token's (every job); in login mode nobody's (the login hook already
    // answered such a request 401, this is the second lock).
    if (me === undefined) return () => !opts.login;
    // Only another user's job costs the question to PVE.
    const everybody = owners.some((o) => o !== me) && hasPrivilege(await fetchPermissions(clientFor(request), { path: '/nodes' }).catch(() => ({})), '/nodes', privilege);
    return (owner) => everybody || owner === me;
  };
  /** Throws ForbiddenJob unless the request reaches what `owner` started. */
  const mustReach = async (request: FastifyRequest, privilege: OthersPrivilege, owner: string, what: string): Promise<void> => {
    if (!(await reach(request, privilege, [owner]))(owner)) {
      throw new ForbiddenJob(`${what} was started by ${owner}; another user's needs ${privilege} on /nodes (as for PVE tasks)`);
    }
  };

  const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (err instanceof ForbiddenJob) return sendShimError(reply, DP_JOB_FORBIDDEN, err.message);
    if (err instanceof JobError) {
      const spec = err.kind === 'not-found' ? DP_NOT_FOUND : err.kind === 'conflict' ? DP_JOB_CONFLICT : DP_BAD_REQUEST;
      return sendShimError(reply, spec, err.message);
    }
    if (err instanceof MigrationReadError) return sendShimError(reply, DP_UPSTREAM_UNREACHABLE, err.message);
    throw err;
  };
  const answers = (schema: object) => ({ 200: schema, '4xx': errorSchema, '5xx': errorSchema });
  /**
   * The write checks (read-only, origin, CSRF token) as the route's first hook: before the body is
   * parsed or validated, so a refused request learns nothing about the body it sent.
   */
  const guard = (what: string, readOnlyAllowed = false) =>
    async (request: FastifyRequest, reply: FastifyReply) => refuseWrite(request, reply, readOnlyAllowed ? { ...opts, readOnly: false } : opts, what);

  // Reads only (allowed read-only), but costs a read of every VM: same-origin pages with the
  // CSRF token only, as for writes.
  app.post<{ Body: PlanRequest }>('/dp/plans', { onRequest: guard('POST /dp/plans', true), schema: { body: planRequestSchema, response: answers(planAnswerSchema) } }, async (request, reply) => {
    try {
      return await manager.createPlan(clientFor(request), request.body, whoFor(request), opts.readOnly);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<IdParams>('/dp/plans/:id', { schema: { params: idParamsSchema, response: answers(planAnswerSchema) } }, async (request, reply) => {
    try {
      const plan = manager.getPlan(request.params.id);
      await mustReach(request, 'Sys.Audit', plan.who, `plan ${plan.id}`);
      return plan;
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Body: JobRequest }>('/dp/jobs', { onRequest: guard('POST /dp/jobs'), schema: { body: jobRequestSchema, response: answers(jobViewSchema) } }, async (request, reply) => {
    try {
      const plan = manager.getPlan(request.body.planId);
      await mustReach(request, 'Sys.Modify', plan.who, `plan ${plan.id}`);
      return manager.startApply(clientFor(request), request.body, whoFor(request)).view();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/dp/jobs', { schema: { response: answers(jobListSchema) } }, async (request) => {
    const jobs = manager.list();
    const visible = await reach(request, 'Sys.Audit', jobs.map((j) => j.record.who));
    return { jobs: jobs.filter((j) => visible(j.record.who)).map((j) => j.listItem()) };
  });

  /** The job, when the request reaches it with `privilege`. */
  const reachableJob = async (request: FastifyRequest<IdParams>, privilege: OthersPrivilege) => {
    const job = manager.get(request.params.id);
    await mustReach(request, privilege, job.record.who, `job ${job.id}`);
    return job;
  };

  app.get<IdParams>('/dp/jobs/:id', { schema: { params: idParamsSchema, response: answers(jobViewSchema) } }, async (request, reply) => {
    try {
      return (await reachableJob(request, 'Sys.Audit')).view();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<IdParams>('/dp/jobs/:id/cancel', { onRequest: guard('POST /dp/jobs/:id/cancel'), schema: { params: idParamsSchema, response: answers(jobViewSchema) } }, async (request, reply) => {
    try {
      await reachableJob(request, 'Sys.Modify');
      return manager.cancel(request.params.id, whoFor(request)).view();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<IdParams & { Body: RollbackRequest }>(
    '/dp/jobs/:id/rollback',
    { onRequest: guard('POST /dp/jobs/:id/rollback'), schema: { params: idParamsSchema, body: rollbackRequestSchema, response: answers(jobViewSchema) } },
    async (request, reply) => {
      try {
        await reachableJob(request, 'Sys.Modify');
        return manager.startRollback(clientFor(request), request.params.id, request.body, whoFor(request)).view();
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.post<IdParams>('/dp/jobs/:id/resume', { onRequest: guard('POST /dp/jobs/:id/resume'), schema: { params: idParamsSchema, response: answers(jobViewSchema) } }, async (request, reply) => {
    try {
      await reachableJob(request, 'Sys.Modify');
      return manager.resume(request.params.id, clientFor(request)).view();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<IdParams>('/dp/jobs/:id/events', { schema: { params: idParamsSchema } }, async (request, reply) => {
    let job;
    try {
      job = await reachableJob(request, 'Sys.Audit');
    } catch (err) {
      return fail(reply, err);
    }
    streamEvents(request, reply, job);
    return reply;
  });
}

/** Writes the job's events as Server-Sent Events until its summary, or until the client leaves. */
function streamEvents(request: FastifyRequest, reply: FastifyReply, job: ReturnType<JobManager['get']>): void {
  const raw = reply.raw;
  const headers: Record<string, string | number | string[]> = {};
  // The security headers set by the onRequest hooks, which hijacking would otherwise drop.
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
  reply.hijack();
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  let ended = false;
  const send = (e: StoredEvent): void => {
    if (ended) return;
    const { type, ...data } = e.event;
    raw.write(`id: ${e.id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    if (type === 'summary') end();
  };
  const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), KEEPALIVE_MS);
  keepAlive.unref();
  let unsubscribe = (): void => {};
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(keepAlive);
    unsubscribe();
    raw.end();
  };
  request.raw.on('close', end);

  const last = request.headers['last-event-id'];
  const missed = typeof last === 'string' ? job.eventsSince(last) : null;
  // Snapshot (or replay) and subscription in one synchronous step: no event can fall between.
  if (missed) for (const e of missed) send(e);
  else send(job.snapshot());
  if (ended) return;
  if (!job.running) {
    send({ id: job.snapshot().id, event: { type: 'summary', job: job.listItem() } });
    return;
  }
  unsubscribe = job.subscribe(send);
}
