// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: the shim holds a token that can write, so a page on another site must not
// be able to post a form to it. Writes need the shim's CSRFPreventionToken, which only a
// same-origin page can read from /dp/config (no CORS headers); it never goes upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF, rawRequest, recordingUpstream, startShim, type Seen } from './helpers.js';

describe('CSRF', () => {
  let upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  let shim: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    upstream = await recordingUpstream();
    shim = await startShim({ upstream: upstream.url });
  });
  afterAll(async () => {
    await shim.close();
    await upstream.close();
  });

  const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' };
  for (const [name, headers] of [
    ['no token (a cross-site form post)', form],
    ['a wrong token', { ...form, csrfpreventiontoken: 'guess' }],
    ['a token of another length', { ...form, csrfpreventiontoken: `${CSRF}x` }],
  ] as const) {
    it(`a write with ${name} -> 403 DP_CSRF, nothing sent upstream`, async () => {
      const before = upstream.seen.length;
      const res = await rawRequest(shim.url, 'POST', '/api2/json/nodes/pve1/qemu/100/config', headers, 'scsihw=lsi');
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_CSRF' });
      expect(upstream.seen.length).toBe(before);
    });
  }

  it('with the token from /dp/config the write goes through, without the token upstream', async () => {
    const config = JSON.parse((await rawRequest(shim.url, 'GET', '/dp/config')).body) as { csrfToken: string };
    const res = await rawRequest(
      shim.url,
      'POST',
      '/api2/json/nodes/pve1/qemu/100/config',
      { 'content-type': 'application/x-www-form-urlencoded', csrfpreventiontoken: config.csrfToken },
      'scsihw=virtio-scsi-single',
    );
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)!.headers['csrfpreventiontoken']).toBeUndefined();
  });

  it('/dp/config has no CORS header, so another origin cannot read the token', async () => {
    const res = await rawRequest(shim.url, 'GET', '/dp/config', { origin: 'https://evil.example' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('GETs need no token', async () => {
    expect((await rawRequest(shim.url, 'GET', '/api2/json/nodes')).status).toBe(200);
  });
});
