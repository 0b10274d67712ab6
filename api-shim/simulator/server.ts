// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The HTTP side: a fastify app that answers `/api2/json/...` and `/api2/extjs/...` the way
 * pve-http-server does: `{"data": ...}` envelopes, the error text in the reason phrase (and in
 * the body's `message` on PVE >= 8.3), `errors` objects on 400, delayed 401s (empty body for a
 * bad API token), 501 for unknown paths, PVE's headers, random (seeded) key order. The `extjs`
 * format (the web UI's) answers every handler error with HTTP 200 and `success: 0`. Fault
 * injection and simulated latency run before everything else.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate } from './auth.js';
import { AuthError, PveError } from './errors.js';
import { accessRoutes } from './routes/access.js';
import { accessListRoutes } from './routes/access-lists.js';
import { agentRoutes } from './routes/agent.js';
import { clusterRoutes } from './routes/cluster.js';
import { clusterConfigRoutes } from './routes/cluster-config.js';
import { firewallRoutes } from './routes/firewall.js';
import { nodeRoutes } from './routes/nodes.js';
import { nodeSystemRoutes, sdnRoutes } from './routes/node-system.js';
import { poolRoutes } from './routes/pools.js';
import { qemuRoutes } from './routes/qemu.js';
import { Envelope, type RouteDef } from './routes/route.js';
import { taskRoutes } from './routes/tasks.js';
import { endpointParams, validateParams } from './schema/validate.js';
import { answerParts } from './answer-text.js';
import { DueTimer } from './due-timer.js';
import { KeyOrder } from './key-order.js';
import type { SimState } from './state.js';

export interface ServerOptions {
  latencyMs: number;
  authDelayMs: number;
  https?: { key: string; cert: string };
  log?: (line: string) => void;
}

export const ALL_ROUTES: RouteDef[] = [
  ...accessRoutes, ...accessListRoutes, ...clusterRoutes, ...clusterConfigRoutes, ...firewallRoutes, ...sdnRoutes, ...poolRoutes,
  ...nodeRoutes, ...nodeSystemRoutes, ...taskRoutes, ...qemuRoutes, ...agentRoutes,
];

/** Result formats of pve-http-server's Formatter::Standard the simulator speaks. */
type Format = 'json' | 'extjs';
const FORMATS: readonly Format[] = ['json', 'extjs'];

/**
 * pve-http-server's split_abs_uri (`/api2` + slashes + format + rest) followed by RESTHandler's
 * find_handler, which skips empty path fragments: `/api2//json//cluster/resources/` is
 * `/api2/json/cluster/resources`. Returns null for a URL outside `/api2/{format}`.
 */
export function normalizeApiUrl(url: string): { format: string; rel: string; query: string } | null {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const m = /^\/api2\/+([a-z][a-z0-9]+)(\/.*)?$/.exec(path);
  if (!m) return null;
  const segments = (m[2] ?? '').split('/').filter((s) => s.length > 0);
  return { format: m[1]!, rel: `/${segments.join('/')}`, query: q < 0 ? '' : url.slice(q) };
}

/** The URL fastify routes: normalised for the formats served, anything else untouched. */
function rewriteUrl(url: string): string {
  const n = normalizeApiUrl(url);
  if (!n || !FORMATS.includes(n.format as Format)) return url;
  return `/api2/${n.format}${n.rel === '/' ? '' : n.rel}${n.query}`;
}

/** The format of a (rewritten) URL, json when it names none the simulator speaks. */
function formatOf(url: string): Format {
  return url.startsWith('/api2/extjs') ? 'extjs' : 'json';
}

const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));


/** The reason phrase: first line of the message, only characters a status line may carry. */
function reasonPhrase(message: string): string {
  const first = message.split('\n')[0] ?? '';
  return first.replace(/[^\t\x20-\x7e]/g, '?').slice(0, 512) || 'error';
}

function pveHeaders(reply: FastifyReply, status: number): void {
  const date = new Date().toUTCString();
  reply.header('Server', 'pve-api-daemon/3.0');
  reply.header('Cache-Control', 'max-age=0');
  reply.header('Pragma', 'no-cache');
  reply.header('Expires', date);
  reply.header('Date', date);
  if (status >= 400) reply.header('Connection', 'close');
}

function sendJson(reply: FastifyReply, status: number, reason: string, body: unknown): FastifyReply {
  return sendText(reply, status, reason, JSON.stringify(body));
}

function sendText(reply: FastifyReply, status: number, reason: string, text: string): FastifyReply {
  pveHeaders(reply, status);
  reply.raw.statusMessage = reason;
  return reply.code(status).header('Content-Type', 'application/json;charset=UTF-8').send(text);
}

/**
 * Answers of more characters than this are streamed (see sendParts): the metrics export (9 MB at
 * 1,000 VMs), not a node's VM list (2 MB at 5,000 VMs), which the first rows of an audit wait for.
 */
const STREAMED = 4 * 1024 * 1024;

/**
 * The parts of a big answer joined into chunks of about 1 MB. Sent as a stream: the next chunk is
 * written once the socket took the last one (a turn of the event loop at least).
 */
function* chunksOf(parts: readonly string[]): Generator<string> {
  const CHUNK = 1024 * 1024;
  let chunk: string[] = [];
  let size = 0;
  for (const part of parts) {
    chunk.push(part);
    size += part.length;
    if (size < CHUNK) continue;
    yield chunk.join('');
    chunk = [];
    size = 0;
  }
  if (size > 0) yield chunk.join('');
}

/**
 * A 200 answer of `parts` (JSON text in parts, see answerParts). A big one (the metrics export:
 * 9 MB at 1,000 VMs) is written a megabyte at a time, with the Content-Length of the whole:
 * writing it in one go encrypted all of it in one turn (20-30 ms at 1,000 VMs), and PVE's other
 * pveproxy workers go on answering meanwhile. (256 KB chunks with a turn each took 2-3 times as
 * long to arrive under load, holding one of the client's slots.)
 */
function sendParts(reply: FastifyReply, parts: readonly string[]): FastifyReply {
  let chars = 0;
  for (const part of parts) chars += part.length;
  if (chars <= STREAMED) return sendText(reply, 200, 'OK', parts.join(''));
  let bytes = 0;
  for (const part of parts) bytes += Buffer.byteLength(part);
  pveHeaders(reply, 200);
  reply.raw.statusMessage = 'OK';
  return reply
    .code(200)
    .header('Content-Type', 'application/json;charset=UTF-8')
    .header('Content-Length', String(bytes))
    .send(Readable.from(chunksOf(parts), { objectMode: false }));
}

/**
 * A form body as pve-http-server's decode_urlencoded reads it: a repeated key joins its values
 * with NUL, which the handler of an `array` parameter splits again (agent `exec` `command`).
 */
export function decodeForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body)) out[k] = k in out ? `${out[k]}\0${v}` : v;
  return out;
}

/** Flattens query and body into PVE's string parameters (repeated keys and JSON arrays NUL-joined). */
function requestParams(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (src: unknown) => {
    if (!src || typeof src !== 'object') return;
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) out[k] = v.map(String).join('\0');
      else if (typeof v === 'boolean') out[k] = v ? '1' : '0';
      else out[k] = String(v);
    }
  };
  add(req.query);
  add(req.body);
  return out;
}

/**
 * The parameters a handler sees, as pve-http-server and PVE::HTTPServer rest_handler build them:
 * `_dc` (the web UI's cache buster) is dropped, a query/body parameter that repeats a path
 * parameter with another value is refused, and the node `localhost` is the node answering.
 */
export function apiParams(request: Record<string, string>, uri: Record<string, string>, localNode: string): Record<string, string> {
  const out: Record<string, string> = { ...uri };
  for (const [k, v] of Object.entries(request)) {
    if (k === '_dc') continue;
    if (out[k] !== undefined && out[k] !== v) throw new PveError(400, 'Parameter verification failed.\n', { [k]: 'duplicate parameter (already defined in URI) with conflicting values!' });
    out[k] = v;
  }
  if (out.node === 'localhost') out.node = localNode;
  return out;
}

/**
 * A successful answer (Formatter::Standard prepare_response_data): `data`, then `total` and
 * `changes` only when true-ish (a total of 0 is left out), and extjs adds `success: 1`.
 */
function okEnvelope(result: unknown, format: Format): Record<string, unknown> {
  const out: Record<string, unknown> = { data: result instanceof Envelope ? result.data : (result ?? null) };
  if (result instanceof Envelope) for (const [k, v] of Object.entries(result.extra)) if (v) out[k] = v;
  if (format === 'extjs') out.success = 1;
  return out;
}

/** Builds the fastify app (not listening). */
export function buildServer(state: SimState, opts: ServerOptions): { app: FastifyInstance; sockets: Set<Socket> } {
  const due = new DueTimer();
  /**
   * Waits until `deadline` (performance.now() ms). The simulated latency is the time from request
   * to answer, so handling time counts towards it; the answer leaves at its due time, not on the
   * next millisecond tick of a timer (see due-timer.ts).
   */
  const waitUntil = (deadline: number): Promise<void> => (deadline > performance.now() ? due.until(deadline) : Promise.resolve());
  const app = Fastify({
    logger: false,
    ...(opts.https ? { https: opts.https } : {}),
    // UPIDs in paths are long (the default limit is 100 characters).
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 1024 * 1024,
    rewriteUrl: (req: { url?: string }) => rewriteUrl(req.url ?? '/'),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  const sockets = new Set<Socket>();
  app.addHook('onClose', async () => {
    await due.close();
  });
  app.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let responseCounter = 0;
  const keyOrder = new KeyOrder(state.rng.fork('key-order'));

  app.removeAllContentTypeParsers();
  const lenientParse = (parse: (body: string) => unknown) => (_req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => {
    try {
      done(null, body.trim() === '' ? {} : parse(body));
    } catch {
      done(null, { __invalid_body__: body });
    }
  };
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, lenientParse(decodeForm));
  app.addContentTypeParser('application/json', { parseAs: 'string' }, lenientParse((b) => JSON.parse(b)));
  app.addContentTypeParser('*', { parseAs: 'string' }, lenientParse(decodeForm));

  /**
   * An error answer. json: the status code, the text in the reason phrase (and in `message` from
   * PVE 8.3 on). extjs (Formatter::Standard prepare_response_data): HTTP 200 with `success: 0`,
   * the code in `status` and the text in `message`, whatever the version.
   */
  const fail = (reply: FastifyReply, err: PveError, format: Format = 'json'): FastifyReply => {
    const body: Record<string, unknown> = { data: null };
    if (err.errors) body.errors = err.errors;
    const shuffle = (b: Record<string, unknown>) => (state.shuffleKeys ? keyOrder.shuffle(b, state.rng.fork(`err:${responseCounter++}`)) : b);
    if (format === 'extjs') {
      Object.assign(body, { message: err.message, status: err.status, success: 0 });
      return sendJson(reply, 200, 'OK', shuffle(body));
    }
    if (state.pveVersion !== '8.2') body.message = err.message;
    return sendJson(reply, err.status, reasonPhrase(err.message), shuffle(body));
  };

  /**
   * Fault injection and latency: returns the time the answer is due, or null when the request was
   * already answered (or dropped) by a fault.
   */
  const preflight = async (req: FastifyRequest, reply: FastifyReply, path: string, format: Format): Promise<number | null> => {
    const decision = state.faults.decide(req.method, path);
    const deadline = performance.now() + opts.latencyMs + decision.latencyMs;
    const t = decision.terminal;
    if (!t) return deadline;
    await waitUntil(deadline);
    if (t.kind === 'reset') {
      reply.hijack();
      req.raw.socket.destroy();
      return null;
    }
    if (t.kind === 'timeout') {
      // Never answered; the socket is destroyed when the simulator closes.
      reply.hijack();
      return null;
    }
    fail(reply, new PveError(t.status, `${t.message}\n`), format);
    return null;
  };

  const handle = (route: RouteDef, format: Format) => async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.slice(`/api2/${format}`.length).split('?')[0]!;
    const deadline = await preflight(req, reply, path, format);
    if (deadline === null) return reply;
    try {
      let principal;
      if (!route.noAuth) {
        try {
          principal = authenticate(
            state.auth,
            {
              ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
              ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
              ...(typeof req.headers.csrfpreventiontoken === 'string' ? { csrf: req.headers.csrfpreventiontoken } : {}),
            },
            req.method,
            state.clock.nowSec(),
          );
        } catch (e) {
          // Authentication fails before any formatter runs: a real 401 in every format.
          if (e instanceof AuthError) {
            await waitUntil(deadline);
            await sleep(opts.authDelayMs);
            if (e.emptyBody) {
              pveHeaders(reply, 401);
              reply.raw.statusMessage = reasonPhrase(e.message);
              return reply.code(401).send();
            }
            return fail(reply, e);
          }
          throw e;
        }
      }
      const raw = apiParams(requestParams(req), req.params as Record<string, string>, state.localNode);
      if ('__invalid_body__' in raw) throw new PveError(400, 'Parameter verification failed.\n', { body: 'unable to parse request body' });
      const schema = endpointParams(route.method, route.path) ?? { properties: {} };
      const { errors, params } = validateParams(schema, raw, route.paramCheck);
      if (Object.keys(errors).length > 0) throw new PveError(400, 'Parameter verification failed.\n', errors);
      let result;
      try {
        result = await route.handler({ state, principal: principal!, params, method: route.method, path });
      } catch (e) {
        if (e instanceof AuthError) await sleep(opts.authDelayMs);
        throw e;
      }
      const envelope = okEnvelope(result, format);
      const parts = await answerParts(envelope, state.shuffleKeys ? { keys: keyOrder, rng: state.rng.fork(`resp:${responseCounter++}`) } : null);
      await waitUntil(deadline);
      return sendParts(reply, parts);
    } catch (e) {
      await waitUntil(deadline);
      if (e instanceof PveError) return fail(reply, e, format);
      opts.log?.(`internal error on ${req.method} ${path}: ${(e as Error).stack ?? String(e)}`);
      return fail(reply, new PveError(500, `${e instanceof Error ? e.message.replace(/\n$/, '') : String(e)}\n`), format);
    }
  };

  for (const route of ALL_ROUTES) {
    for (const format of FORMATS) {
      app.route({ method: route.method, url: `/api2/${format}${route.path.replace(/\{([^}]+)\}/g, ':$1')}`, handler: handle(route, format) });
    }
  }

  app.setNotFoundHandler(async (req, reply) => {
    // The message names the path as requested (RESTHandler's rel_uri keeps empty fragments).
    const original = normalizeApiUrl(req.originalUrl);
    const format = formatOf(req.url);
    const rel = original ? (/^\/api2\/+[a-z][a-z0-9]+(\/[^?]*)?/.exec(req.originalUrl)?.[1] ?? '/') : req.url.split('?')[0]!;
    const deadline = await preflight(req, reply, original?.rel ?? rel, format);
    if (deadline === null) return reply;
    await waitUntil(deadline);
    return fail(reply, new PveError(501, `Method '${req.method} ${rel}' not implemented\n`), format);
  });

  app.setErrorHandler((err, req, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    return fail(reply, new PveError(status >= 400 ? status : 500, `${err instanceof Error ? err.message : String(err)}\n`), formatOf(req.url));
  });

  if (opts.log) {
    app.addHook('onResponse', async (req, reply) => {
      opts.log!(`${req.method} ${req.url} -> ${reply.statusCode}`);
    });
  }
  return { app, sockets };
}
