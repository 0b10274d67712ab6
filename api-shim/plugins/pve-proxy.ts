// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/api2/json/*` -> PVE, reads only. In this encapsulated plugin, in order, every request:
 * 1. has its raw path checked (`..`, encoded `/`, NUL: 400 `DP_BAD_PATH`; over 2 KiB: 414);
 * 2. unless GET/HEAD, is refused before any byte goes upstream: 403 `DP_AUDIT_READ_ONLY` under
 *    `--read-only`, else 403 `DP_PATH_NOT_ALLOWED` (changes run as the shim's jobs, never through
 *    the proxy);
 * 3. must be on the allow-list of the audit's reads, with only the query parameters the audit
 *    sends on it (403 `DP_PATH_NOT_ALLOWED`; a malformed query 400 `DP_BAD_PATH`), then waits for
 *    a slot of its user's pacing (api-shim/user-limiter.ts);
 * 4. goes upstream as the path the allow-list matched (not the client's spelling of it), with a
 *    header set built from scratch: the few content-negotiation headers a GET needs plus the
 *    credentials the shim holds (the token, or the signed-in user's ticket).
 *    Nothing that frames a message (length, encoding, connection, upgrade, expect) or carries the
 *    browser's credentials is copied;
 * 5. comes back with only the content headers of PVE's answer: no `Set-Cookie`, no CORS
 *    (`Access-Control-*`: an upstream or a proxy in front of it that sends them would let other
 *    origins read the cluster through the shim), no hop-by-hop headers, and the shim's own
 *    security headers instead of any PVE sent.
 * Upstream TLS is verified (system CAs or `ca`) or pinned by fingerprint through the same agent
 * the CLI uses (src/node/tls.ts). The forwarding is a plain node:http(s) request on that agent's
 * kept-alive sockets rather than @fastify/http-proxy: everything it would decide per request (the
 * upstream URL, the headers both ways) is fixed by the steps above, and its per-request machinery
 * cost about a third of the shim's CPU per read.
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { createPveAgent } from '../../src/node/tls.js';
import { allowedCall, queryRefusal } from '../allow-list.js';
import { DP_AUDIT_READ_ONLY, DP_BAD_PATH, DP_PATH_NOT_ALLOWED, DP_RATE_LIMITED, DP_UPSTREAM_UNREACHABLE, DP_URI_TOO_LONG, type ShimErrorSpec, sendShimError } from '../errors.js';
import { sessionOf } from '../session-of.js';
import { UserLimiter } from '../user-limiter.js';
import type { ResolvedShimOptions } from '../options.js';
import { canonicalTarget, checkApiPath } from '../request-path.js';
import { upstreamCredentials } from '../upstream-credentials.js';

/** Where the PVE API lives, on PVE and on the shim. */
export const API_PREFIX = '/api2/json';

/** Request headers copied from the browser's GET; everything else is dropped. */
export const FORWARDED_REQUEST_HEADERS: readonly string[] = ['accept', 'accept-encoding', 'accept-language', 'if-none-match', 'if-modified-since'];

/** Response headers copied from PVE's answer; everything else is dropped. */
export const FORWARDED_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'cache-control',
  'expires',
  'pragma',
  'date',
  'etag',
  'last-modified',
  'vary',
];

/** Reads one user may have waiting for a slot; beyond, 429 (the panel sends a handful at once; more is a runaway client). */
const MAX_QUEUED_PER_USER = 2000;

/** Upstream sockets; pveproxy runs 3 workers per node, more only queue there. */
const UPSTREAM_SOCKETS = 8;

/** The `names` present in `headers` (node:http's, names already lower-case). */
function pick<T>(headers: Readonly<Record<string, T | undefined>>, names: readonly string[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const name of names) {
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** HTTP methods routed to this plugin (the hook below refuses all but GET/HEAD with the shim's own errors). */
const ROUTED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

/**
 * The longest request target forwarded (bytes). The panel's longest read is well under 200 (a
 * node name, a VMID, a snapshot name of at most 40); a longer one is refused rather than handed
 * to PVE to refuse.
 */
export const MAX_TARGET_LENGTH = 2048;

/** A read refused before anything went upstream: the shim's error and its message. */
export interface ReadRefusal {
  spec: ShimErrorSpec;
  message: string;
}

/**
 * Steps 1-3 of the module comment for `method rawUrl` (the request target as sent,
 * `/api2/json/...?...`): why it is refused, or null when it may go upstream. The proxy's hook and
 * the batched read (plugins/pending-batch.ts) both ask this, so a read is guarded the same way
 * whichever route asked for it.
 */
export function readRefusal(method: string, rawUrl: string, readOnly: boolean): ReadRefusal | null {
  if (rawUrl.length > MAX_TARGET_LENGTH) {
    return { spec: DP_URI_TOO_LONG, message: `request target of ${rawUrl.length} bytes refused (at most ${MAX_TARGET_LENGTH}); nothing was sent to PVE` };
  }
  const check = checkApiPath(rawUrl, API_PREFIX);
  if (!check.ok) return { spec: DP_BAD_PATH, message: `refused path: ${check.reason}` };
  if (method !== 'GET' && method !== 'HEAD') {
    if (readOnly) {
      return { spec: DP_AUDIT_READ_ONLY, message: `read-only mode: ${method} ${check.path} refused by pve-dataplane (started with --read-only); nothing was sent to PVE` };
    }
    return { spec: DP_PATH_NOT_ALLOWED, message: `${method} ${check.path}: the shim forwards no writes; changes run as its jobs (POST /dp/jobs) from a saved plan` };
  }
  const call = allowedCall(method, check.path);
  if (!call) return { spec: DP_PATH_NOT_ALLOWED, message: `${method} ${check.path} is not an API call pve-dataplane makes; the shim forwards only those` };
  const refusal = queryRefusal(call, check.path, check.query);
  if (refusal) return { spec: refusal.status === 403 ? DP_PATH_NOT_ALLOWED : DP_BAD_PATH, message: `refused query: ${refusal.reason}; nothing was sent to PVE` };
  return null;
}

/** Step 3's pacing and step 4's forwarding, one of each per shim: the proxy and the batched read share them. */
export interface UpstreamReads {
  /** Each user's slots toward PVE (api-shim/user-limiter.ts). */
  readonly limiter: UserLimiter;
  /** `pve1:8006`, for error texts. */
  readonly host: string;
  /**
   * Sends `method rawUrl` (passed by `readRefusal`) upstream with `headers` plus the credentials
   * of `request`'s user (the token, or the signed-in user's ticket); no answer within the upstream
   * timeout destroys it with an error. The caller ends nothing: the request is already sent.
   */
  open(request: FastifyRequest, method: string, rawUrl: string, headers: Record<string, string | string[]>): ClientRequest;
  /** Closes the kept-alive upstream sockets (the shim is closing). */
  close(): void;
}

const readsOf = new WeakMap<ResolvedShimOptions, UpstreamReads>();

/** The shim's one `UpstreamReads` for `opts` (made on first use). */
export function upstreamReads(opts: ResolvedShimOptions): UpstreamReads {
  let reads = readsOf.get(opts);
  if (reads) return reads;
  const tlsUpstream = opts.upstream.protocol === 'https:';
  const agent = tlsUpstream
    ? createPveAgent({
        ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
        ...(opts.ca ? { ca: opts.ca } : {}),
        insecure: opts.insecure,
        maxSockets: UPSTREAM_SOCKETS,
        warn: opts.warn,
      })
    : new http.Agent({ keepAlive: true, maxSockets: UPSTREAM_SOCKETS });
  const send = tlsUpstream ? https.request : http.request;
  // Everything about the upstream request that is the same for every read, computed once.
  const upstreamPrefix = `${opts.upstream.pathname.replace(/\/$/, '')}${API_PREFIX}`;
  const { hostname, port, host } = opts.upstream;
  const timeout = opts.upstreamTimeoutMs;
  reads = {
    limiter: new UserLimiter(opts.limits.concurrency, opts.limits.perSecond, MAX_QUEUED_PER_USER),
    host,
    open(request, method, rawUrl, headers) {
      headers['host'] = host;
      Object.assign(headers, upstreamCredentials(opts, request));
      // The guard has checked the path and the query. What goes upstream is the path as it was
      // checked, never the client's spelling of it: a `%6eodes` passed as `nodes` but reached PVE
      // as `%6eodes` (the allow-list admits only letters, digits, '.', '-', so this is the
      // decoded path); the query goes as sent.
      const upstream = send({ method, hostname, port, path: upstreamPrefix + canonicalTarget(rawUrl.slice(API_PREFIX.length)), headers, agent, timeout });
      upstream.on('timeout', () => upstream.destroy(new Error(`no answer within ${timeout} ms`)));
      // A 101 to a read: node:http hands the socket over and emits nothing else, so the caller
      // waited forever (holding its user's slot). A read never switches protocols.
      upstream.on('upgrade', (answer: IncomingMessage, socket: Socket) => {
        socket.destroy();
        upstream.emit('error', new Error(`answered a read with ${String(answer.statusCode)} (a protocol switch)`));
      });
      upstream.end();
      return upstream;
    },
    close() {
      agent.destroy();
      readsOf.delete(opts);
    },
  };
  readsOf.set(opts, reads);
  return reads;
}

/** Answers up to this size (bytes, by their Content-Length) are passed on as one buffer. */
const BUFFERED_ANSWER_BYTES = 64 * 1024;

/** What one forwarded read holds between the hook and its end. */
interface Exchange {
  release: () => void;
  /** The upstream read until PVE's answer starts. */
  upstream: ClientRequest | null;
}

/** Registers the guarded proxy. */
export async function pveProxy(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  const reads = upstreamReads(opts);
  const { limiter, host } = reads;
  const exchanges = new WeakMap<FastifyRequest['raw'], Exchange>();
  // A callback hook, not an async one: a read that finds a free slot (nearly all) passes without
  // a promise; only one that must wait for its user's pacing goes through `acquire`.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const raw = request.raw;
    const refused = readRefusal(request.method, raw.url!, opts.readOnly);
    if (refused) return void sendShimError(reply, refused.spec, refused.message);
    const user = sessionOf(request)?.userid ?? 'token';
    const release = limiter.tryAcquire(user);
    if (release) {
      exchanges.set(raw, { release, upstream: null });
      return done();
    }
    limiter.acquire(user).then((queued) => {
      if (!queued) return void sendShimError(reply, DP_RATE_LIMITED, `too many requests from ${user} waiting for PVE; retry shortly`);
      // The client left while waiting for its turn: nothing to forward.
      if (raw.destroyed) return queued();
      exchanges.set(raw, { release: queued, upstream: null });
      done();
    }, done);
  });
  // Whatever ends the exchange frees the slot and, the client gone first, drops the upstream read.
  const free = (raw: FastifyRequest['raw']): void => {
    const exchange = exchanges.get(raw);
    if (!exchange) return;
    exchanges.delete(raw);
    exchange.release();
    exchange.upstream?.destroy();
  };
  app.addHook('onResponse', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    free(request.raw);
    done();
  });
  app.addHook('onRequestAbort', (request: FastifyRequest, done: HookHandlerDoneFunction) => {
    free(request.raw);
    done();
  });
  app.addHook('onClose', (_instance: FastifyInstance, done: HookHandlerDoneFunction) => {
    reads.close();
    done();
  });

  // Forwarding by hand over node:http(s) with the agent of `upstreamReads` (the one that verifies
  // or pins TLS); the header set is built from scratch both ways.
  const forward = (request: FastifyRequest, reply: FastifyReply): void => {
    const raw = request.raw;
    const exchange = exchanges.get(raw)!;
    const upstream = reads.open(request, request.method, raw.url!, pick(raw.headers, FORWARDED_REQUEST_HEADERS));
    exchange.upstream = upstream;
    let answered = false;
    // Every way a read can end without PVE's answer (an error, a timeout, a protocol switch, a
    // socket closed without one) answers 502, once.
    const fail = (why: string): void => {
      if (answered) return;
      answered = true;
      exchange.upstream = null;
      if (reply.sent || raw.destroyed) return;
      void sendShimError(reply, DP_UPSTREAM_UNREACHABLE, `PVE at ${host} ${why}`);
    };
    upstream.on('response', (answer: IncomingMessage) => {
      answered = true;
      exchange.upstream = null;
      // The client went away while PVE answered: nothing to send it.
      if (raw.destroyed) return void answer.destroy();
      try {
        void reply.code(answer.statusCode!);
      } catch {
        answer.destroy();
        return void sendShimError(reply, DP_UPSTREAM_UNREACHABLE, `PVE at ${host} answered with an invalid status ${String(answer.statusCode)}`);
      }
      void reply.headers(pick(answer.headers, FORWARDED_RESPONSE_HEADERS));
      const length = Number(answer.headers['content-length']);
      // A GET's answer of known, modest size (a VM's config: ~1-2 KiB) is passed on as one
      // buffer: piping it cost a stream pipeline per read. Larger ones (syslog, metrics) and
      // answers of unknown length are streamed.
      if (request.method !== 'GET' || !(length <= BUFFERED_ANSWER_BYTES)) return void reply.send(answer);
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => void reply.send(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      // PVE went away mid-answer: the status line is not sent yet, so the client gets a 502.
      answer.on('aborted', () => void sendShimError(reply, DP_UPSTREAM_UNREACHABLE, `PVE at ${host} closed the connection mid-answer`));
    });
    upstream.on('error', (error: Error) => fail(`not reachable: ${error.message}`));
    upstream.on('close', () => fail('closed the connection without an answer'));
  };
  app.route({ method: ROUTED_METHODS, url: API_PREFIX, handler: forward });
  app.route({ method: ROUTED_METHODS, url: `${API_PREFIX}/*`, handler: forward });
}
