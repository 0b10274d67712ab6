// SPDX-License-Identifier: AGPL-3.0-or-later
// Real sockets on port 0: a recording upstream (or the simulator) and the shim in front of it.
import http from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
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

/** An upstream that records every request and answers `{data: {ok: true}}`, or 401 for `/fail401`. */
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
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers: withLength }, (res) => {
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
