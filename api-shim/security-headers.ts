// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Headers on every answer of the shim. The panel can write (Apply), so no other site may frame
 * it and trick a click (`frame-ancestors 'none'`); it loads only its own bundle and talks only
 * to its own origin.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** CSP of the panel: own scripts, lit's constructed stylesheets plus index.html's inline style. */
export const PANEL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export async function securityHeaders(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  void reply.header('content-security-policy', PANEL_CSP);
  void reply.header('x-frame-options', 'DENY');
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
}
