// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The HTTP side: a fastify app that answers `/api2/json/...` the way pve-http-server does
 * (NOTES.md §1-2): `{"data": ...}` envelopes, the error text in the reason phrase (and in the
 * body's `message` on PVE >= 8.3), `errors` objects on 400, delayed 401s (empty body for a bad
 * API token), 501 for unknown paths, PVE's headers, random (seeded) key order. Fault injection
 * and simulated latency run before everything else.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate } from './auth.js';
import { AuthError, PveError } from './errors.js';
import { accessRoutes } from './routes/access.js';
import { agentRoutes } from './routes/agent.js';
import { clusterRoutes } from './routes/cluster.js';
import { nodeRoutes } from './routes/nodes.js';
import { poolRoutes } from './routes/pools.js';
import { qemuRoutes } from './routes/qemu.js';
import { Envelope, type RouteDef } from './routes/route.js';
import { taskRoutes } from './routes/tasks.js';
import { endpointParams, validateParams } from './schema/validate.js';
import { shuffled, type Rng } from './rng.js';
import type { SimState } from './state.js';

export interface ServerOptions {
  latencyMs: number;
  authDelayMs: number;
  https?: { key: string; cert: string };
  log?: (line: string) => void;
}

export const ALL_ROUTES: RouteDef[] = [...accessRoutes, ...clusterRoutes, ...poolRoutes, ...nodeRoutes, ...taskRoutes, ...qemuRoutes, ...agentRoutes];

const PREFIX = '/api2/json';

const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/**
 * Waits until `deadline` (performance.now() ms). The simulated latency is the time from request
 * to answer, so handling time counts towards it; timers fire up to ~1 ms late, hence the rounding.
 */
const waitUntil = (deadline: number) => {
  const remaining = Math.round(deadline - performance.now());
  return remaining >= 1 ? new Promise<void>((r) => setTimeout(r, remaining)) : Promise.resolve();
};

/** Deep copy with object keys in a random (seeded) order, like Perl hashes. Arrays keep order. */
function shuffleKeys(value: unknown, rng: Rng): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rng));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of shuffled(rng, Object.keys(value))) out[k] = shuffleKeys((value as Record<string, unknown>)[k], rng);
    return out;
  }
  return value;
}

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
  pveHeaders(reply, status);
  reply.raw.statusMessage = reason;
  return reply.code(status).header('Content-Type', 'application/json;charset=UTF-8').send(JSON.stringify(body));
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

/** Builds the fastify app (not listening). */
export function buildServer(state: SimState, opts: ServerOptions): { app: FastifyInstance; sockets: Set<Socket> } {
  const app = Fastify({
    logger: false,
    ...(opts.https ? { https: opts.https } : {}),
    // UPIDs in paths are long (the default limit is 100 characters).
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 1024 * 1024,
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  const sockets = new Set<Socket>();
  app.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let responseCounter = 0;

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

  const fail = (reply: FastifyReply, err: PveError): FastifyReply => {
    const body: Record<string, unknown> = { data: null };
    if (err.errors) body.errors = err.errors;
    if (state.pveVersion !== '8.2') body.message = err.message;
    return sendJson(reply, err.status, reasonPhrase(err.message), state.shuffleKeys ? shuffleKeys(body, state.rng.fork(`err:${responseCounter++}`)) : body);
  };

  /**
   * Fault injection and latency: returns the time the answer is due, or null when the request was
   * already answered (or dropped) by a fault.
   */
  const preflight = async (req: FastifyRequest, reply: FastifyReply, path: string): Promise<number | null> => {
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
    fail(reply, new PveError(t.status, `${t.message}\n`));
    return null;
  };

  const handle = (route: RouteDef) => async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.slice(PREFIX.length).split('?')[0]!;
    const deadline = await preflight(req, reply, path);
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
          if (e instanceof AuthError) {
            await waitUntil(deadline);
            await sleep(opts.authDelayMs);
            if (e.emptyBody) {
              pveHeaders(reply, 401);
              reply.raw.statusMessage = reasonPhrase(e.message);
              return reply.code(401).send();
            }
          }
          throw e;
        }
      }
      const raw = { ...requestParams(req), ...(req.params as Record<string, string>) };
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
      const envelope = result instanceof Envelope ? { data: result.data, ...result.extra } : { data: result ?? null };
      const body = state.shuffleKeys ? shuffleKeys(envelope, state.rng.fork(`resp:${responseCounter++}`)) : envelope;
      await waitUntil(deadline);
      return sendJson(reply, 200, 'OK', body);
    } catch (e) {
      await waitUntil(deadline);
      if (e instanceof PveError) return fail(reply, e);
      opts.log?.(`internal error on ${req.method} ${path}: ${(e as Error).stack ?? String(e)}`);
      return fail(reply, new PveError(500, `${e instanceof Error ? e.message.replace(/\n$/, '') : String(e)}\n`));
    }
  };

  for (const route of ALL_ROUTES) {
    app.route({ method: route.method, url: PREFIX + route.path.replace(/\{([^}]+)\}/g, ':$1'), handler: handle(route) });
  }

  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.startsWith(PREFIX) ? req.url.slice(PREFIX.length).split('?')[0]! : req.url.split('?')[0]!;
    const deadline = await preflight(req, reply, path);
    if (deadline === null) return reply;
    await waitUntil(deadline);
    return fail(reply, new PveError(501, `Method '${req.method} ${path}' not implemented\n`));
  });

  app.setErrorHandler((err, _req, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    return fail(reply, new PveError(status >= 400 ? status : 500, `${err instanceof Error ? err.message : String(err)}\n`));
  });

  if (opts.log) {
    app.addHook('onResponse', async (req, reply) => {
      opts.log!(`${req.method} ${req.url} -> ${reply.statusCode}`);
    });
  }
  return { app, sockets };
}
