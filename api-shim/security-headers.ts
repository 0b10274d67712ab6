// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Headers on every answer of the shim, errors included. The panel starts jobs that write, so no
 * other site may frame it and trick a click (`frame-ancestors 'none'`); it loads only its own
 * bundle and talks only to its own origin. Every answer but the panel's own files is data, never
 * a page: it gets `API_CSP`, so whatever PVE (or what answers in its place) sends on a read, an
 * HTML error page, a body labelled `text/html` or `application/javascript`, opened as a page runs
 * in a sandbox without scripts and with an origin of its own, and cannot reach `/dp/config` or a
 * job as the shim's origin. Only the static panel's answers get `PANEL_CSP`
 * (plugins/static-panel.ts). Four paths produce answers and all four set them:
 * the root onRequest hook (routes, 404s, refusals), `frameworkErrors` (Fastify's own 400 for a URL
 * it cannot decode: no hook runs), the `clientError` handler (bytes node:http cannot parse) and
 * the `connect` listener (CONNECT never becomes a request).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';

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

/**
 * CSP of everything else (the proxied reads, `/dp/...`, errors): no content of any kind, and as a
 * document an opaque origin without scripts (`sandbox`). A `fetch` by the panel is not affected:
 * a CSP governs the document or worker it is delivered with, not the page that reads it.
 */
export const API_CSP = ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'", 'sandbox'].join('; ');

/** The headers, lower-case name -> value (the static panel's answers replace the CSP by PANEL_CSP). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': API_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

/** SECURITY_HEADERS as pairs, built once: they are set on every answer. */
const PAIRS: readonly (readonly [string, string])[] = Object.entries(SECURITY_HEADERS);

/** The headers as raw HTTP lines (`name: value\r\n` each), for answers written straight to a socket. */
const RAW_LINES = PAIRS.map(([k, v]) => `${k}: ${v}\r\n`).join('');

/** Sets the headers on `reply` (replacing any an upstream answer carried). */
export function applySecurityHeaders(reply: FastifyReply): void {
  for (const [k, v] of PAIRS) void reply.header(k, v);
}

/**
 * Writes a whole JSON error answer with the headers straight to `socket` and closes it: for
 * what node:http hands over without a request object (bytes it cannot parse, CONNECT).
 */
export function rawErrorAnswer(socket: Socket, status: number, code: string, message: string): void {
  const body = JSON.stringify({ data: null, message, code });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${RAW_LINES}content-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * node:http's `clientError` (a request line or header it cannot parse, a header block too large):
 * the answer Fastify would write, with the security headers, then the socket is closed.
 */
export function clientErrorWithHeaders(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  rawErrorAnswer(socket, status, 'DP_BAD_FRAMING', `malformed HTTP request (${err.code ?? 'parse error'}); nothing was sent to PVE`);
}
