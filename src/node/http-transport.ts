// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `PveClient`'s transport on Node's own http/https: what axios does for the client (one request,
 * the whole answer as text, every status resolved, no redirects followed, no proxy from the
 * environment, a timeout on socket inactivity), at half its CPU per request. The agents decide
 * keep-alive and TLS (src/node/tls.ts pins the certificate before a byte of the request is sent).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Transport } from '../api/client.js';

export interface NodeTransportOptions {
  /** For https:// URLs (createPveAgent). */
  httpsAgent?: https.Agent;
  /** For http:// URLs (simulator `--http`). */
  httpAgent?: http.Agent;
}

/** Where a request goes, as `http.request` options (what it would derive from the URL itself). */
interface Target {
  protocol: string;
  hostname: string;
  port: string;
  /** As Node's agent derives it from the Host header: the host name, '' for an IP address (no SNI). */
  servername: string;
}

/**
 * A path the WHATWG URL parser leaves as it is: no character it would percent-encode, no
 * backslash, no dot segment (`/.`, `/%2e`). Every path PveClient builds is one (encodeURIComponent
 * does the rest); anything else goes through `new URL`.
 */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/%?]*$/;
const DOT_SEGMENT = /\/(\.|%2e)/i;

/** The target of `url`; null when it carries credentials (then the URL itself is passed on). */
function targetOf(url: URL): Target | null {
  if (url.username || url.password) return null;
  // URL keeps IPv6 brackets; http.request wants them off (urlToHttpOptions strips them too).
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol: url.protocol, hostname, port: url.port, servername: isIP(hostname) ? '' : hostname };
}

/** A transport over `node:http`/`node:https` with the given agents. */
export function nodeTransport(options: NodeTransportOptions = {}): Transport {
  // The client sends every request to one origin: its target is parsed once, not per request.
  let known: { origin: string; target: Target } | null = null;
  /** `http.request` options for the URL, or the parsed URL itself when it is not a plain one. */
  const route = (raw: string): http.RequestOptions | URL => {
    const slash = raw.indexOf('/', raw.indexOf('//') + 2);
    if (known && slash === known.origin.length && raw.startsWith(known.origin)) {
      const path = raw.slice(slash);
      if (PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path)) {
        const { protocol, hostname, port, servername } = known.target;
        return { protocol, hostname, port, path, ...(protocol === 'https:' ? { servername } : {}) };
      }
    }
    const url = new URL(raw);
    const target = targetOf(url);
    if (target && slash > 0) known = { origin: raw.slice(0, slash), target };
    return url;
  };
  return (req) =>
    new Promise((resolve, reject) => {
      const to = route(req.url);
      const secure = to.protocol === 'https:';
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
      const onResponse = (res: http.IncomingMessage): void => {
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
      };
      const init: http.RequestOptions = { method: req.method, headers, ...(agent ? { agent } : {}), ...(req.signal ? { signal: req.signal } : {}) };
      const request = to instanceof URL ? send(to, init, onResponse) : send({ ...to, ...init }, onResponse);
      request.on('error', fail);
      // As axios' `timeout` in Node: no socket activity for timeoutMs (code ETIMEDOUT, no cause).
      request.setTimeout(req.timeoutMs, () => {
        fail(Object.assign(new Error(`timeout of ${req.timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' }));
        request.destroy();
      });
      request.end(req.body);
    });
}
