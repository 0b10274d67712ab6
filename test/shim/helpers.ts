// SPDX-License-Identifier: AGPL-3.0-or-later
// Real sockets on port 0: a recording upstream (or the simulator) and the shim in front of it.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../api-shim/app.js';
import type { ShimOptions } from '../../api-shim/options.js';

export const TOKEN = 'audit@pve!panel=0b6e9d6c-2f4f-4d0e-9a57-5d1c8f0a7e11';
export const SECRET = '0b6e9d6c-2f4f-4d0e-9a57-5d1c8f0a7e11';
/** The shim's CSRF token in these tests. */
export const CSRF = 'test-csrf-token-for-writes';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * An upstream that records every request and answers `{data: {ok: true}}` with the headers a
 * careless PVE or a proxy in front of it might add (a cookie, permissive CORS, its own framing
 * policy), which the shim must never relay.
 */
export async function recordingUpstream(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => {
    payload.resume();
    payload.on('end', () => done(null, null));
  });
  app.all('/*', async (req, reply) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    void reply.header('set-cookie', 'PVEAuthCookie=leak; Path=/');
    void reply.header('access-control-allow-origin', req.headers.origin ?? '*');
    void reply.header('access-control-allow-credentials', 'true');
    void reply.header('access-control-expose-headers', 'set-cookie');
    void reply.header('x-frame-options', 'ALLOWALL');
    void reply.header('content-security-policy', 'frame-ancestors *');
    void reply.header('keep-alive', 'timeout=600');
    return { data: { ok: true, path: req.url } };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => app.close() };
}

/** The shim on port 0 in front of `upstream`. */
export async function startShim(opts: Partial<ShimOptions> & { upstream: string }): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = await buildApp({ token: TOKEN, panelDir: null, csrfToken: CSRF, ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends `path` byte for byte (fetch would normalise `..` and `%2E%2E` away). */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    // An explicit length: Node sends a DELETE body neither chunked nor with a length, and the
    // server would then read the body as the next request on the kept-alive socket.
    const withLength = body !== undefined ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers;
    // https: the tests' own self-signed certificates.
    const send = u.protocol === 'https:' ? https.request : http.request;
    const req = send({ host: u.hostname, port: u.port, method, path, headers: withLength, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** One HTTP/1.1 answer read off a raw socket. */
export interface RawSocketAnswer {
  status: number;
  /** Header names lower-cased; repeated headers keep the last value. */
  headers: Record<string, string>;
  body: string;
}

/** How long `rawSocket` waits for the first byte of an answer (ms). */
const FIRST_ANSWER_MS = 10_000;

/**
 * Writes `bytes` as they are onto a fresh TCP connection to `base` and collects everything the
 * server sends until it closes the socket, `complete(text)` holds, or (without `complete`) `idleMs`
 * pass without data after the first byte. node:http would refuse
 * to send most of what these tests send (a GET with a body and Transfer-Encoding, a bare LF...).
 */
export function rawSocket(base: string, bytes: string | Buffer, idleMs = 400, complete?: (text: string) => boolean): Promise<{ text: string; closedByServer: boolean }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const socket = net.connect(Number(u.port), u.hostname, () => socket.write(bytes));
    // The first answer may take a while on a loaded machine; only silence after it ends the read.
    let timer = setTimeout(() => socket.destroy(), FIRST_ANSWER_MS);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      // With `complete`, the read ends once what came is whole (a streamed answer the server keeps
      // open): a pause between its parts on a loaded machine does not cut it.
      if (complete?.(Buffer.concat(chunks).toString('latin1'))) return void socket.destroy();
      timer = setTimeout(() => socket.destroy(), complete ? FIRST_ANSWER_MS : idleMs);
    });
    socket.on('end', () => (closedByServer = true));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? (closedByServer = true) : reject(err)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer });
    });
  });
}

/** Splits what `rawSocket` read into answers (Content-Length framed, as the shim always sends). */
export function parseAnswers(text: string): RawSocketAnswer[] {
  const out: RawSocketAnswer[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    const bodyStart = end + 4;
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: rest.slice(bodyStart, bodyStart + len) });
    rest = rest.slice(bodyStart + len);
  }
  return out;
}

/** A shim in front of a recording upstream for the whole describe block (started in beforeAll, closed in afterAll). */
export function shimOverRecordingUpstream(opts: Partial<ShimOptions> = {}): {
  upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  shim: { url: string; close(): Promise<void> };
  host: string;
} {
  const s = {} as ReturnType<typeof shimOverRecordingUpstream>;
  beforeAll(async () => {
    s.upstream = await recordingUpstream();
    s.shim = await startShim({ ...opts, upstream: s.upstream.url });
    s.host = new URL(s.shim.url).host;
  });
  afterAll(async () => {
    await s.shim.close();
    await s.upstream.close();
  });
  return s;
}
