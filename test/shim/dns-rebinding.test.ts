// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: a shim listening on loopback answers only to loopback names, so a site
// whose DNS name is re-pointed to 127.0.0.1 (DNS rebinding) cannot read /dp/config or use the API.
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

  it('a shim listening on another address answers any Host (it is reached by its own name)', async () => {
    const open = await serve({ upstream: upstream.url, token: TOKEN, panelDir: null, port: 0, host: '0.0.0.0' });
    try {
      const port = new URL(open.url).port;
      expect((await rawRequest(`http://127.0.0.1:${port}`, 'GET', '/dp/config', { host: 'pve-tools.example:8080' })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
