// SPDX-License-Identifier: AGPL-3.0-or-later
/** Serves the built panel (`dist/panel`: index.html, main.js) at `/`. */
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export async function staticPanel(app: FastifyInstance, opts: { panelDir: string }): Promise<void> {
  await app.register(fastifyStatic, {
    root: opts.panelDir,
    prefix: '/',
    // The bundle is rebuilt in place; a stale cached main.js would not match index.html.
    cacheControl: true,
    maxAge: 0,
  });
}
