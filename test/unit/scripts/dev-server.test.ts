// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The stand-in for pveproxy the PVE-UI browser tests, the e2e tests and scripts/pve-gui.mjs share
 * (scripts/dev-server.mjs), over real sockets: the page, files by prefix, and `/api2/` forwarded
 * with only the headers PVE reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPageServer, fileOf } from '../../../scripts/dev-server.mjs';

const base = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
const listen = (s: http.Server) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
const close = (s: http.Server) => (s.closeAllConnections(), new Promise<void>((resolve) => s.close(() => resolve())));

describe('the page server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dp-page-'));
  // The upstream (a simulator's place): answers what it received, or PVE's 401 for /denied.
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url!.endsWith('/denied')) {
        res.writeHead(401, 'authentication failure', { 'content-type': 'application/json;charset=UTF-8' });
        return void res.end('{"data":null}');
      }
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
      res.end('{"data":{"ok":1}}');
    });
  });
  let upstreamUrl = '';
  const server = createPageServer({
    page: '<!doctype html><title>stand-in</title>',
    api2: () => upstreamUrl,
    routes: [
      ['/pve2/js/pve-dataplane-ui.js', join(dir, 'bundle.js')],
      ['/pve2/css/', `${dir}/css/`],
    ],
  });

  beforeAll(async () => {
    writeFileSync(join(dir, 'bundle.js'), 'window.x = 1;\n');
    await listen(upstream);
    upstreamUrl = base(upstream);
    await listen(server);
  });
  afterAll(async () => {
    await close(server);
    await close(upstream);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers / with the page and a mapped file with its type; anything else is a 404', async () => {
    const page = await fetch(`${base(server)}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>stand-in</title>');
    const js = await fetch(`${base(server)}/pve2/js/pve-dataplane-ui.js?ver=0.1.0`);
    expect(js.headers.get('content-type')).toBe('application/javascript');
    expect(await js.text()).toBe('window.x = 1;\n');
    expect((await fetch(`${base(server)}/pve2/css/missing.css`)).status).toBe(404);
    expect((await fetch(`${base(server)}/elsewhere`)).status).toBe(404);
  });

  it('path traversal (%2E%2E) out of a mapped directory is a 404', async () => {
    expect(fileOf('/pve2/css/%2E%2E/bundle.js', [['/pve2/css/', `${dir}/css/`]])).toBeNull();
    expect((await fetch(`${base(server)}/pve2/css/%2E%2E/bundle.js`)).status).toBe(404);
  });

  it('forwards /api2/ with the cookie, the CSRF token and the body, and nothing else of the browser', async () => {
    seen.length = 0;
    const res = await fetch(`${base(server)}/api2/json/nodes/pve1/qemu/100/config?x=1`, {
      method: 'POST',
      headers: { cookie: 'PVEAuthCookie=ticket', csrfpreventiontoken: 'csrf', 'content-type': 'application/x-www-form-urlencoded', authorization: 'PVEAPIToken=leak', 'x-other': '1' },
      body: 'scsihw=virtio-scsi-single',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { ok: 1 } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api2/json/nodes/pve1/qemu/100/config?x=1', body: 'scsihw=virtio-scsi-single' });
    expect(seen[0]!.headers).toMatchObject({ cookie: 'PVEAuthCookie=ticket', csrfpreventiontoken: 'csrf', 'content-type': 'application/x-www-form-urlencoded' });
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers['x-other']).toBeUndefined();
  });

  it("passes PVE's status and its message (the status text) back", async () => {
    const res = await fetch(`${base(server)}/api2/json/denied`);
    expect(res.status).toBe(401);
    expect(res.statusText).toBe('authentication failure');
    expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8');
  });

  it('an upstream that is gone is a 502 naming it', async () => {
    const gone = upstreamUrl;
    upstreamUrl = 'http://127.0.0.1:9';
    try {
      const res = await fetch(`${base(server)}/api2/json/version`);
      expect(res.status).toBe(502);
      expect(await res.text()).toContain('cannot reach http://127.0.0.1:9');
    } finally {
      upstreamUrl = gone;
    }
  });
});
