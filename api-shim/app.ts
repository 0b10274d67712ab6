// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `buildApp(opts)`: the shim as a Fastify instance that does not listen (tests call `listen`
 * on port 0, `serve` in main.ts on the real port). Root hooks run on every request, in order:
 * security headers + HTTP framing hygiene + Host allow-list (one hook, request-guard.ts), (login
 * mode) the session; then each part
 * is an encapsulated plugin: the guarded read proxy, the batched config read (`/dp/pending`), `/dp/config`, the plans and jobs (`/dp/plans`,
 * `/dp/jobs`), and the static panel.
 */
import Fastify, { type FastifyReply } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { DP_BAD_PATH, sendShimError } from './errors.js';
import { limitConnections } from './connection-limit.js';
import { guardServer } from './http-hygiene.js';
import { requestGuard } from './request-guard.js';
import { applySecurityHeaders, clientErrorWithHeaders } from './security-headers.js';
import { type ShimOptions, resolveShimOptions } from './options.js';
import { auditMode } from './plugins/audit-mode.js';
import { jobsRoutes } from './plugins/jobs.js';
import { registerLogin } from './plugins/login.js';
import { pendingBatch } from './plugins/pending-batch.js';
import { pveProxy } from './plugins/pve-proxy.js';
import { staticPanel } from './plugins/static-panel.js';
import { upstreamClientFor } from './upstream-client.js';

/**
 * Builds the shim.
 * @throws ShimOptionsError when an option is wrong (before anything is registered)
 */
export async function buildApp(options: ShimOptions): Promise<FastifyInstance> {
  const opts = resolveShimOptions(options);
  // Slow clients (slowloris): a request's headers must be in within headersTimeoutMs of the
  // connection (or of the previous answer), its body within 3x that; checked every 1 s at most
  // (Node checks every 30 s by default). An idle kept-alive socket closes after 10 s (Fastify's
  // default is 72 s, meant for load balancers in front of it). SSE answers are not affected:
  // these limits cover receiving the request, not sending the answer.
  const headersTimeout = opts.limits.headersTimeoutMs;
  // requireHostHeader off: node:http's own 400 for an HTTP/1.1 request without Host lacks the
  // security headers; the root hook answers it instead (http-hygiene.ts).
  const slowClients = { headersTimeout, requestTimeout: 3 * headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout), requireHostHeader: false };
  const app = Fastify({
    ...(opts.tls ? { https: { ...opts.tls, ...slowClients } } : { http: slowClients }),
    requestTimeout: slowClients.requestTimeout,
    keepAliveTimeout: 10_000,
    logger: opts.logger,
    trustProxy: false,
    // Fastify's own 400 for a URL it cannot decode: no hook runs, so the headers are set here.
    frameworkErrors: (error, _request, reply) => {
      applySecurityHeaders(reply as FastifyReply);
      if (error.code === 'FST_ERR_BAD_URL') return void sendShimError(reply as FastifyReply, DP_BAD_PATH, `refused path: ${error.message}`);
      return void (reply as FastifyReply).code(error.statusCode ?? 400).send(error);
    },
    clientErrorHandler: clientErrorWithHeaders,
  });
  guardServer(app.server);
  limitConnections(app.server, opts.limits.connectionsPerAddress, opts.limits.connections);
  app.addHook('onRequest', requestGuard(opts.allowedHosts));
  if (opts.login) await registerLogin(app, opts);
  await app.register(pveProxy, opts);
  await app.register(pendingBatch, opts);
  await app.register(auditMode, opts);
  // Login mode: every job request acts as its signed-in user (refuseWrite made sure there is one).
  await app.register(jobsRoutes, opts.login ? { ...opts, clientFor: (request) => upstreamClientFor(opts, request)! } : opts);
  if (opts.panelDir) await app.register(staticPanel, { panelDir: opts.panelDir });
  return app;
}
