// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The node transport sends what `http.request(new URL(...))` sends: the URL parser's path and
 * Host header, credentials in the URL as Basic authorization, whether the request's target was
 * parsed for it or reused from the request before.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTransport } from '../../../src/node/http-transport.js';

let server: http.Server;
let base: string;
const seen: Array<{ url: string; host: string; authorization?: string }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url!, host: req.headers.host!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    res.end('{"data":null}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('nodeTransport', () => {
  it('sends each path as the URL parser writes it, the first request and the ones after it alike', async () => {
    const send = nodeTransport({ httpAgent: new http.Agent({ keepAlive: true }) });
    const paths = [
      '/api2/json/nodes/pve1/qemu/100/pending',
      '/api2/json/nodes/pve1/qemu/100/pending',
      '/api2/json/nodes/pve1/syslog?since=2026-12-06+20%3A53%3A39&limit=500',
      '/api2/json/a b/./c/%2e%2E/d?q="x"',
      "/api2/json/x?y='1'",
      '/api2/json/nodes/pve1/tasks/UPID:pve1:0001:01:6735:qmstart:100:root@pam:/status',
    ];
    seen.length = 0;
    for (const p of paths) await send({ method: 'GET', url: `${base}${p}`, headers: {}, timeoutMs: 5000 });
    const url = new URL(base);
    expect(seen.map((s) => s.url)).toEqual(paths.map((p) => { const u = new URL(`${base}${p}`); return `${u.pathname}${u.search}`; }));
    expect(seen.every((s) => s.host === url.host)).toBe(true);
  });

  it('passes credentials in the URL on as Basic authorization, every time', async () => {
    const send = nodeTransport();
    seen.length = 0;
    const withUser = base.replace('http://', 'http://me:s%20ecret@');
    for (let i = 0; i < 2; i++) await send({ method: 'GET', url: `${withUser}/api2/json/version`, headers: {}, timeoutMs: 5000 });
    await send({ method: 'GET', url: `${base}/api2/json/version`, headers: {}, timeoutMs: 5000 });
    const basic = `Basic ${Buffer.from('me:s ecret').toString('base64')}`;
    expect(seen.map((s) => s.authorization)).toEqual([basic, basic, undefined]);
  });
});
