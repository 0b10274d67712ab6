// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A tiny PVE-shaped HTTP(S) server on 127.0.0.1:0 for client tests over real sockets: answers with
 * PVE's envelope and reason phrases, counts requests in flight, and can inject faults.
 */
import { readFileSync } from 'node:fs';
import fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

export interface SeenRequest {
  method: string;
  /** Path below /api2/json, with query string. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Decoded form body (POST/PUT). */
  body: Record<string, string>;
}

export type Handler = (req: FastifyRequest, reply: FastifyReply, seen: SeenRequest) => unknown;

export interface FakePve {
  url: string;
  requests: SeenRequest[];
  /** Highest number of requests being handled at the same time. */
  maxInFlight: number;
  close(): Promise<void>;
}

export interface FakePveOptions {
  https?: { key: string; cert: string };
  /** Delay (ms) before every answer, to make concurrency observable. */
  latencyMs?: number;
}

/** Starts the server; `handler` gets every request below `/api2/json`. */
export async function startFakePve(handler: Handler, options: FakePveOptions = {}): Promise<FakePve> {
  const app = fastify({ forceCloseConnections: true, ...(options.https ? { https: options.https } : {}) });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const state: FakePve = { url: '', requests: [], maxInFlight: 0, close: () => app.close() };
  let inFlight = 0;
  app.all('/api2/json/*', async (req, reply) => {
    const seen: SeenRequest = {
      method: req.method,
      url: req.url.slice('/api2/json'.length),
      headers: req.headers,
      body: (req.body as Record<string, string> | undefined) ?? {},
    };
    state.requests.push(seen);
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    try {
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      return await handler(req, reply, seen);
    } finally {
      inFlight--;
    }
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  state.url = address;
  return state;
}

/** Sends `{"data": data}` like PVE. */
export function ok(reply: FastifyReply, data: unknown, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.header('content-type', 'application/json;charset=UTF-8').send(JSON.stringify({ ...extra, data }));
}

/**
 * Sends a PVE error: the text as reason phrase (first line only, like pve-http-server) and, when
 * `newBody` is set, also as body `message` (libpve-http-server-perl >= 5.2.0).
 */
export function fail(
  reply: FastifyReply,
  status: number,
  text: string,
  opts: { newBody?: boolean; errors?: Record<string, string> } = {},
): FastifyReply {
  reply.raw.statusMessage = text.split('\n')[0]!;
  const body: Record<string, unknown> = { data: null };
  if (opts.errors) body['errors'] = opts.errors;
  if (opts.newBody) body['message'] = `${text}\n`;
  return reply.code(status).header('content-type', 'application/json;charset=UTF-8').send(JSON.stringify(body));
}

/** Drops the connection without an answer (a reset seen by the client). */
export function reset(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  req.raw.socket.destroy();
  return reply;
}

/** Never answers (until the server closes). */
export function hang(reply: FastifyReply): FastifyReply {
  reply.hijack();
  return reply;
}

/** A recorded HTTP error answer (`error-*.txt`): status line, headers, body. */
export interface RecordedAnswer {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: string;
}

const FIXTURES = new URL('../../../fixtures/pve-api/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** Parses a `.txt` capture: `HTTP/1.1 <status> <reason>`, headers, blank line, body. */
export function recordedAnswer(name: string): RecordedAnswer {
  const text = fixtureText(name);
  const [head, ...rest] = text.split('\n\n');
  const [statusLine, ...headerLines] = head!.split('\n');
  const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine!);
  if (!m) throw new Error(`${name}: no status line`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(': ');
    headers[line.slice(0, i)] = line.slice(i + 2);
  }
  return { status: Number(m[1]), reason: m[2]!, headers, body: rest.join('\n\n').replace(/\n$/, '') };
}

/** Replays a recorded answer byte for byte (status line, headers except framing, body). */
export function replay(reply: FastifyReply, answer: RecordedAnswer): FastifyReply {
  reply.hijack();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(answer.headers)) {
    if (!/^(content-length|connection)$/i.test(k)) headers[k] = v;
  }
  reply.raw.writeHead(answer.status, answer.reason, { ...headers, 'Content-Length': Buffer.byteLength(answer.body) });
  reply.raw.end(answer.body);
  return reply;
}
