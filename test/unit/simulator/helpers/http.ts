// SPDX-License-Identifier: AGPL-3.0-or-later
/** Minimal HTTP(S) client for the simulator tests: real sockets, reason phrases, raw bodies. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RunningSimulator } from '../../../../api-shim/simulator/index.js';

export interface Answer {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed body, undefined when the body is empty. */
  body: any;
}

export interface CallOptions {
  /** API token `USER@REALM!ID=SECRET` (default: the simulator's admin token; null = none). */
  token?: string | null;
  cookie?: string;
  csrf?: string;
  /** Form parameters (sent urlencoded, as PVE's own clients do). */
  form?: Record<string, string | number>;
  /** A ready urlencoded body (repeated keys, as PveClient sends arrays). */
  formRaw?: string;
  json?: unknown;
  /** Result format of the URL, `/api2/json` (default) or `/api2/extjs` (the web UI's). */
  format?: 'json' | 'extjs';
}

export function call(sim: RunningSimulator, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const url = new URL(`${sim.url}/api2/${opts.format ?? 'json'}${path}`);
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? sim.token : opts.token;
  if (token) headers.Authorization = `PVEAPIToken=${token}`;
  if (opts.cookie) headers.Cookie = `PVEAuthCookie=${encodeURIComponent(opts.cookie)}`;
  if (opts.csrf) headers.CSRFPreventionToken = opts.csrf;
  let payload: string | undefined;
  if (opts.form || opts.formRaw !== undefined) {
    payload = opts.formRaw ?? new URLSearchParams(Object.entries(opts.form!).map(([k, v]) => [k, String(v)])).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (opts.json !== undefined) {
    payload = JSON.stringify(opts.json);
    headers['Content-Type'] = 'application/json';
  }
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...(sim.certificate ? { ca: sim.certificate } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: res.headers, text, body: text ? JSON.parse(text) : undefined }),
      );
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** GET helper returning `data` and failing loudly on non-200. */
export async function getData(sim: RunningSimulator, path: string, token?: string | null): Promise<any> {
  const a = await call(sim, 'GET', path, token === undefined ? {} : { token });
  if (a.status !== 200) throw new Error(`GET ${path}: ${a.status} ${a.reason}`);
  return a.body.data;
}
