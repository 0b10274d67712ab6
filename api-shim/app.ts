// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `buildApp(opts)`: the shim as a Fastify instance that does not listen (tests call `listen`
 * on port 0, `serve` in main.ts on the real port). Each part is an encapsulated plugin:
 * the guarded proxy, `/dp/config`, and the static panel.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { DP_BAD_PATH, sendShimError } from './errors.js';
import { hostGuard } from './host-guard.js';
import { securityHeaders } from './security-headers.js';
import { type ShimOptions, resolveShimOptions } from './options.js';
import { applyRoute } from './plugins/apply.js';
import { auditMode } from './plugins/audit-mode.js';
import { pveProxy } from './plugins/pve-proxy.js';
import { staticPanel } from './plugins/static-panel.js';

/**
 * Builds the shim.
 * @throws ShimOptionsError when an option is wrong (before anything is registered)
 */
export async function buildApp(options: ShimOptions): Promise<FastifyInstance> {
  const opts = resolveShimOptions(options);
  const app = Fastify({
    logger: opts.logger,
    trustProxy: false,
    // Fastify's own 400 for a URL it cannot decode, in our coded shape.
    frameworkErrors: (error, _request, reply) => {
      if (error.code === 'FST_ERR_BAD_URL') return void sendShimError(reply as FastifyReply, DP_BAD_PATH, `refused path: ${error.message}`);
      return void (reply as FastifyReply).code(error.statusCode ?? 400).send(error);
    },
  });
  app.addHook('onRequest', securityHeaders);
  if (opts.allowedHosts) app.addHook('onRequest', hostGuard(opts.allowedHosts));
  await app.register(pveProxy, opts);
  await app.register(auditMode, opts);
  await app.register(applyRoute, opts);
  if (opts.panelDir) await app.register(staticPanel, { panelDir: opts.panelDir });
  return app;
}
