// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Serves the built panel (`dist/panel`: index.html, main.js) at `/`, with the panel's CSP in place
 * of the data answers' sandbox (api-shim/security-headers.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fastifyStatic from '@fastify/static';
import { PANEL_CSP } from '../security-headers.js';

export async function staticPanel(app: FastifyInstance, opts: { panelDir: string }): Promise<void> {
  // Encapsulated: runs for the panel's routes only, after the root hook set the other headers.
  app.addHook('onRequest', (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    void reply.header('content-security-policy', PANEL_CSP);
    done();
  });
  await app.register(fastifyStatic, {
    root: opts.panelDir,
    prefix: '/',
    // The bundle is rebuilt in place; a stale cached main.js would not match index.html.
    cacheControl: true,
    maxAge: 0,
  });
}
