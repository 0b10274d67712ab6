// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * HTTP framing rules every request passes before anything else looks at it. The shim speaks
 * HTTP/1.1 on both sides and reuses upstream sockets, so any disagreement about where a request
 * ends (a GET with a body, `Transfer-Encoding`, `Expect`, `Upgrade`) could let one client's bytes
 * be read by PVE as a second request authenticated with the shim's credentials (request
 * smuggling / desync). The panel never sends any of these, so they are refused outright instead of
 * being normalised, and the client's socket is closed after the refusal.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DP_BAD_FRAMING, sendShimError } from './errors.js';

/** Methods that carry no body in anything the panel sends. */
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Headers that must occur once: node:http keeps the first Host and drops the rest, another hop may read the last. */
const SINGLE = ['host', 'content-length', 'content-type', 'authorization', 'csrfpreventiontoken'];

/** How often each of SINGLE occurs in node:http's `rawHeaders` (name, value, name, value, …). */
function repeated(rawHeaders: readonly string[]): string | null {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!SINGLE.includes(name)) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return null;
}

/**
 * Why `request` is refused, or null. Exported for the unit test; the hook below applies it.
 * Header names arrive lower-case from node:http.
 */
export function framingProblem(method: string, headers: FastifyRequest['headers'], rawHeaders: readonly string[] = []): string | null {
  // RFC 9112 §3.2: a request with more than one Host is answered 400.
  const twice = repeated(rawHeaders);
  if (twice) return `more than one ${twice} header`;
  if (headers['transfer-encoding'] !== undefined) return 'Transfer-Encoding is not accepted (send a Content-Length)';
  if (headers['expect'] !== undefined) return 'Expect is not accepted';
  if (headers['upgrade'] !== undefined) return 'Upgrade is not accepted';
  if (headers['te'] !== undefined || headers['trailer'] !== undefined) return 'TE/Trailer are not accepted';
  if (BODYLESS.has(method) && headers['content-length'] !== undefined) return `${method} with a Content-Length (a body) is not accepted`;
  return null;
}

/** Client sockets that sent one refused request: nothing after it on them is trusted. */
const distrusted = new WeakSet<Socket>();

/**
 * onRequest hook: 400 `DP_BAD_FRAMING` + `Connection: close` for the requests above, and for any
 * request pipelined behind one of them on the same socket (node:http has parsed and dispatched
 * those before the first answer closes the connection).
 */
export async function httpHygiene(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const socket = request.raw.socket;
  const problem = distrusted.has(socket)
    ? 'an earlier request on this connection was refused'
    : framingProblem(request.method.toUpperCase(), request.headers, request.raw.rawHeaders);
  if (!problem) return undefined;
  distrusted.add(socket);
  void reply.header('connection', 'close');
  return sendShimError(reply, DP_BAD_FRAMING, `refused request: ${problem}; nothing was sent to PVE`);
}

/**
 * node:http answers `Expect: 100-continue` with `100 Continue` by itself, inviting the body before
 * any hook ran. With a `checkContinue` listener it does not: the request goes through the hooks
 * like any other and is refused there.
 */
export function noAutomaticContinue(server: Server): void {
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
}
