// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `PveClient`'s transport on Node's own http/https: what axios does for the client (one request,
 * the whole answer as text, every status resolved, no redirects followed, no proxy from the
 * environment, a timeout on socket inactivity), at half its CPU per request. The agents decide
 * keep-alive and TLS (src/node/tls.ts pins the certificate before a byte of the request is sent).
 */
import http from 'node:http';
import https from 'node:https';
import type { Transport } from '../api/client.js';

export interface NodeTransportOptions {
  /** For https:// URLs (createPveAgent). */
  httpsAgent?: https.Agent;
  /** For http:// URLs (simulator `--http`). */
  httpAgent?: http.Agent;
}

/** A transport over `node:http`/`node:https` with the given agents. */
export function nodeTransport(options: NodeTransportOptions = {}): Transport {
  return (req) =>
    new Promise((resolve, reject) => {
      const url = new URL(req.url);
      const secure = url.protocol === 'https:';
      const headers: Record<string, string | number> = { Accept: 'application/json', ...req.headers };
      if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
      const send = secure ? https.request : http.request;
      const agent = secure ? options.httpsAgent : options.httpAgent;
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const request = send(
        url,
        { method: req.method, headers, ...(agent ? { agent } : {}), ...(req.signal ? { signal: req.signal } : {}) },
        (res) => {
          res.setEncoding('utf8');
          let body = '';
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body });
          });
          res.on('error', fail);
          res.on('aborted', () => fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
        },
      );
      request.on('error', fail);
      // As axios' `timeout` in Node: no socket activity for timeoutMs (code ETIMEDOUT, no cause).
      request.setTimeout(req.timeoutMs, () => {
        fail(Object.assign(new Error(`timeout of ${req.timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' }));
        request.destroy();
      });
      request.end(req.body);
    });
}
