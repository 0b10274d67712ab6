// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The one web server of the developer and test pages that stand in for pveproxy: a page at `/`,
 * files under URL prefixes, and `/api2/` forwarded to a simulator (or a shim), as pveproxy serves
 * the API beside its web UI. Used by the PVE-UI browser tests (web-test-runner.config.mjs), the
 * end-to-end tests and README screenshots (test/e2e/pve-ui/page-server.ts) and the real PVE GUI
 * check (scripts/pve-gui.mjs).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The request headers PVE reads of a browser: the PVEAuthCookie ticket, the CSRFPreventionToken
 * of a write, and the body type. Nothing else goes upstream.
 */
export const API2_HEADERS = ['cookie', 'csrfpreventiontoken', 'content-type', 'accept'];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** The content type a file is served with (by its extension). */
export function contentTypeOf(file) {
  return TYPES[extname(file)] ?? 'application/octet-stream';
}

/**
 * Forwards one `/api2/` request (`req`: the browser's, read to its end) to `base`
 * (`http://127.0.0.1:PORT`, no path) and returns PVE's answer: status, status text (PVE's error
 * message), content type and body. An upstream that cannot be reached is a 502 naming the error.
 * @param {string} base
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<{ status: number, statusText: string, type: string, body: Buffer }>}
 */
export async function forwardApi2(base, req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const headers = {};
  for (const h of API2_HEADERS) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
  try {
    const up = await fetch(base + req.url, { method: req.method ?? 'GET', headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    return { status: up.status, statusText: up.statusText, type: up.headers.get('content-type') ?? 'application/json', body: Buffer.from(await up.arrayBuffer()) };
  } catch (err) {
    const why = err instanceof Error ? (err.cause?.message ?? err.message) : String(err);
    return { status: 502, statusText: 'Bad Gateway', type: 'text/plain; charset=utf-8', body: Buffer.from(`cannot reach ${base}: ${why}`) };
  }
}

/**
 * `forwardApi2` for a node:http server: the answer written to `res`.
 * @param {string} base
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
export async function proxyApi2(base, req, res) {
  const up = await forwardApi2(base, req);
  res.writeHead(up.status, up.statusText, { 'content-type': up.type });
  res.end(up.body);
}

/**
 * The file a URL path maps to: the first `[prefix, target]` whose prefix starts the path, the rest
 * of the path appended (a prefix that is a whole path names one file). `null` for no match and for
 * any path with `..` in it (also percent-encoded).
 * @param {string} path the URL's pathname, still encoded
 * @param {ReadonlyArray<readonly [string, string]>} routes
 * @returns {string | null}
 */
export function fileOf(path, routes) {
  let decoded;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  if (decoded.includes('..')) return null;
  const hit = routes.find(([prefix]) => decoded.startsWith(prefix));
  return hit ? hit[1] + decoded.slice(hit[0].length) : null;
}

/**
 * A server (not listening yet) answering `/` with `page`, `/api2/…` from `api2()`'s upstream
 * (asked at each request: it may start the upstream on first use), and files by `routes`
 * (`fileOf`); anything else is a 404.
 * @param {{ page: string, api2: () => string | Promise<string>, routes: ReadonlyArray<readonly [string, string]> }} o
 */
export function createPageServer(o) {
  return http.createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(o.page);
      }
      if (path.startsWith('/api2/')) return proxyApi2(await o.api2(), req, res);
      const file = fileOf(path, o.routes);
      let body = null;
      if (file) body = await readFile(file).catch(() => null);
      if (!body) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': contentTypeOf(file) });
      res.end(body);
    })().catch((err) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  });
}

/**
 * `pve-dataplane simulate --http` with `args` (the built CLI, bin/pve-dataplane.js under `root`),
 * as a child process: `url` resolves to its base URL once it printed its ready line.
 * @param {string[]} args
 * @param {{ root?: string, stderr?: 'inherit' | 'ignore' }} [o]
 * @returns {{ url: Promise<string>, stop: () => void }}
 */
export function spawnSimulator(args, o = {}) {
  const child = spawn(process.execPath, ['bin/pve-dataplane.js', 'simulate', '--http', '--port', '0', ...args], {
    cwd: o.root,
    stdio: ['ignore', 'pipe', o.stderr ?? 'ignore'],
  });
  const url = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).url));
  });
  return { url, stop: () => void child.kill('SIGTERM') };
}
