// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: a shim listening on loopback answers only to loopback names, so a site
// whose DNS name is re-pointed to 127.0.0.1 (DNS rebinding) cannot read /dp/config or use the API.
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningShim, serve } from '../../api-shim/main.js';
import { rawRequest, recordingUpstream, TOKEN, type Seen } from './helpers.js';

describe('DNS rebinding', () => {
  let upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  let shim: RunningShim;
  beforeAll(async () => {
    upstream = await recordingUpstream();
    shim = await serve({ upstream: upstream.url, token: TOKEN, panelDir: null, port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await shim.close();
    await upstream.close();
  });

  for (const host of ['evil.example', 'evil.example:8080', '192.0.2.1:8080']) {
    it(`Host: ${host} -> 403 DP_HOST_NOT_ALLOWED, on /dp/config and the API`, async () => {
      const before = upstream.seen.length;
      for (const path of ['/dp/config', '/api2/json/nodes']) {
        const res = await rawRequest(shim.url, 'GET', path, { host });
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_HOST_NOT_ALLOWED' });
        expect(res.body).not.toContain('csrfToken');
      }
      expect(upstream.seen.length).toBe(before);
    });
  }

  for (const host of ['localhost:8080', '127.0.0.1', '[::1]:8080', '127.0.0.2:1']) {
    it(`Host: ${host} is answered`, async () => {
      expect((await rawRequest(shim.url, 'GET', '/dp/config', { host })).status).toBe(200);
    });
  }

  it('token mode refuses to listen beyond loopback, naming --login and --allowed-host', async () => {
    for (const host of ['0.0.0.0', '::']) {
      await expect(serve({ upstream: upstream.url, token: TOKEN, panelDir: null, port: 0, host })).rejects.toThrow(/loopback only.*--login.*--allowed-host/);
    }
    await expect(serve({ upstream: upstream.url, panelDir: null, port: 0, host: '0.0.0.0', login: true })).rejects.toThrow(/--allowed-host NAME/);
    await expect(serve({ upstream: upstream.url, panelDir: null, port: 0, host: '0.0.0.0', login: true, allowedHosts: ['a.example'] })).rejects.toThrow(/--tls-cert/);
  });
});

// The attack: a shim bound to 0.0.0.0, a LAN address or ::ffff:127.0.0.1 had no Host check at all,
// so a page on evil.example whose name re-resolves to the shim's address became same-origin with
// it, read /dp/config (the CSRF token) and could start an apply. Every route now checks Host.
describe('dns-rebinding-non-loopback', () => {
  let upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  let tls: { cert: string; key: string };
  beforeAll(async () => {
    upstream = await recordingUpstream();
    const pems = await generate([{ name: 'commonName', value: 'pve-tools.example' }], { keySize: 2048, algorithm: 'sha256' });
    tls = { cert: pems.cert, key: pems.private };
  });
  afterAll(async () => {
    await upstream.close();
  });

  const routes: [string, string][] = [
    ['GET', '/dp/config'],
    ['GET', '/api2/json/nodes'],
    ['POST', '/dp/jobs'],
    ['GET', '/'],
    ['GET', '/no/such/page'],
  ];

  for (const bind of ['0.0.0.0', '::ffff:127.0.0.1']) {
    it(`bound to ${bind}: Host evil.example is refused on every route; the allowed name and loopback names are answered`, async () => {
      const shim = await serve({
        upstream: upstream.url,
        panelDir: null,
        port: 0,
        host: bind,
        // The recording upstream is no PVE: it answers /version without a login.
        checkUpstream: false,
        ...(bind === '0.0.0.0' ? { login: true, allowedHosts: ['pve-tools.example'], tls } : { token: TOKEN }),
      });
      try {
        const base = `${new URL(shim.url).protocol}//127.0.0.1:${new URL(shim.url).port}`;
        const before = upstream.seen.length;
        for (const [method, path] of routes) {
          for (const host of ['evil.example', 'evil.example:8080', 'pve-tools.example.evil.example']) {
            const res = await rawRequest(base, method, path, { host, 'content-type': 'application/json' }, method === 'POST' ? '{}' : undefined);
            expect(res.status, `${method} ${path} Host ${host}`).toBe(403);
            expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_HOST_NOT_ALLOWED' });
            expect(res.headers['x-frame-options']).toBe('DENY');
          }
        }
        expect(upstream.seen.length).toBe(before);
        const names = bind === '0.0.0.0' ? ['pve-tools.example:8080', 'PVE-TOOLS.example', 'localhost:1'] : ['127.0.0.1:1', '[::ffff:127.0.0.1]:1'];
        for (const host of names) expect((await rawRequest(base, 'GET', '/dp/config', { host })).status, host).toBe(200);
      } finally {
        await shim.close();
      }
    });
  }
});
