// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * HTTP framing rules every request passes before anything else looks at it. The shim speaks
 * HTTP/1.1 on both sides and reuses upstream sockets, so any disagreement about where a request
 * ends (a GET with a body, `Transfer-Encoding`, `Expect`, `Upgrade`) could let one client's bytes
 * be read by PVE as a second request authenticated with the shim's credentials (request
 * smuggling / desync). The panel never sends any of these, so they are refused outright instead of
 * being normalised, and the client's socket is closed after the refusal. The same goes for what
 * only a proxy would be asked (an absolute-form or `*` target, CONNECT), request lines other than
 * HTTP/1.0 and 1.1, and header blocks longer than any browser sends.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DP_BAD_FRAMING, DP_BAD_PATH, DP_HTTP_VERSION, DP_NOT_A_PROXY, DP_TOO_MANY_HEADERS, type ShimErrorSpec, sendShimError } from './errors.js';
import { rawErrorAnswer } from './security-headers.js';

/** Methods that carry no body in anything the panel sends. */
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Headers that must occur once: node:http keeps the first Host and drops the rest, another hop may read the last. */
const SINGLE = ['host', 'content-length', 'content-type', 'authorization', 'csrfpreventiontoken'];

/**
 * Header lines a request may have. A browser sends about 20; node:http's own limit (2,000) does
 * not refuse more, it silently drops them from `headers`/`rawHeaders` while its parser still
 * frames the message by them: a `Transfer-Encoding` or second `Host` as the 2,001st line was
 * invisible to the checks below. The server keeps every line (`maxHeadersCount = 0`, bounded by
 * node's 16 KiB header block limit) and anything past this count is refused.
 */
export const MAX_HEADER_LINES = 100;

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

/** A refusal: which error, and why. */
export interface Refusal {
  spec: ShimErrorSpec;
  reason: string;
}

/** Client sockets that sent one refused request: nothing after it on them is trusted. */
const distrusted = new WeakSet<Socket>();

/** Why the request `raw` is refused before any route sees it, or null. */
export function hygieneRefusal(raw: IncomingMessage): Refusal | null {
  if (distrusted.has(raw.socket)) return { spec: DP_BAD_FRAMING, reason: 'an earlier request on this connection was refused' };
  // RFC 9112 §3.2: an origin server is asked for a path; `GET http://evil/...` and `OPTIONS *` are for proxies.
  if (raw.url?.charCodeAt(0) !== 0x2f) return { spec: DP_NOT_A_PROXY, reason: `request target '${(raw.url ?? '').slice(0, 80)}' is not a path: pve-dataplane is not a proxy` };
  // RFC 9112 §3.2.1: a target has no fragment (a browser never sends one). node:http passes '#' on,
  // and the query check read `?type=vm#/../x` as the value `vm#/../x` while PVE reads `vm`.
  if (raw.url.includes('#')) return { spec: DP_BAD_PATH, reason: "'#' in the request target (a fragment is never sent to a server)" };
  if (raw.httpVersionMajor !== 1) return { spec: DP_HTTP_VERSION, reason: `HTTP/${raw.httpVersion} is not accepted (HTTP/1.1 only)` };
  // node:http would answer this 400 itself, without the security headers (requireHostHeader is off in app.ts).
  if (raw.httpVersionMinor === 1 && raw.headers.host === undefined) return { spec: DP_BAD_FRAMING, reason: 'an HTTP/1.1 request without Host' };
  if (raw.rawHeaders.length > 2 * MAX_HEADER_LINES) {
    return { spec: DP_TOO_MANY_HEADERS, reason: `${raw.rawHeaders.length / 2} header lines (at most ${MAX_HEADER_LINES} are accepted)` };
  }
  const problem = framingProblem(raw.method!, raw.headers, raw.rawHeaders);
  return problem ? { spec: DP_BAD_FRAMING, reason: problem } : null;
}

/**
 * Answers a refusal from `hygieneRefusal` with `Connection: close`, and distrusts the socket: a
 * request pipelined behind a refused one (node:http has parsed and dispatched it before the
 * first answer closes the connection) is refused too.
 */
export function refuseRequest(request: FastifyRequest, reply: FastifyReply, refusal: Refusal): FastifyReply {
  distrusted.add(request.raw.socket);
  void reply.header('connection', 'close');
  return sendShimError(reply, refusal.spec, `refused request: ${refusal.reason}; nothing was sent to PVE`);
}

/**
 * What the node:http server itself must do for the rules above:
 * - `Expect: 100-continue` is answered `100 Continue` by node:http on its own, inviting the body
 *   before any hook ran; with a `checkContinue` listener it is not, and the request goes through
 *   the hooks like any other and is refused there;
 * - CONNECT never becomes a request (node:http drops the socket without an answer when nobody
 *   listens): it gets the shim's 400 with the security headers;
 * - every header line is kept so the checks above see all of them (MAX_HEADER_LINES).
 */
export function guardServer(server: Server): void {
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
  server.on('connect', (req: IncomingMessage, socket: Socket) =>
    rawErrorAnswer(socket, DP_NOT_A_PROXY.status, DP_NOT_A_PROXY.code, `CONNECT ${(req.url ?? '').slice(0, 80)} refused: pve-dataplane is not a proxy; nothing was sent to PVE`),
  );
  server.maxHeadersCount = 0;
}
