// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: the shim's own write endpoints (jobs) act with credentials held here, so a
// page on another site must not be able to post to them. A write needs the shim's
// CSRFPreventionToken, which only a same-origin page can read from /dp/config (no CORS headers),
// and a browser write from another origin (Origin / Sec-Fetch-Site) is refused even with it.
import { describe, expect, it } from 'vitest';
import { CSRF, rawRequest, shimOverRecordingUpstream } from './helpers.js';

describe('CSRF', () => {
  const s = shimOverRecordingUpstream();

  // `{}` is not a valid job: a request that passes the guard gets 400 DP_BAD_REQUEST, one that
  // does not gets 403 DP_CSRF; neither reads PVE.
  const post = (headers: Record<string, string>) => rawRequest(s.shim.url, 'POST', '/dp/jobs', { 'content-type': 'application/json', ...headers }, '{}');
  for (const [name, headers] of [
    ['no token (a cross-site form post)', { origin: 'https://evil.example' }],
    ['no token, same origin', { origin: 'http://HOST' }],
    ['a wrong token', { csrfpreventiontoken: 'guess' }],
    ['a token of another length', { csrfpreventiontoken: `${CSRF}x` }],
    ['the right token from another origin', { csrfpreventiontoken: CSRF, origin: 'https://evil.example' }],
    ['the right token from a sandboxed frame (Origin: null)', { csrfpreventiontoken: CSRF, origin: 'null' }],
    ['the right token, Sec-Fetch-Site: cross-site', { csrfpreventiontoken: CSRF, 'sec-fetch-site': 'cross-site' }],
    ['the right token, Sec-Fetch-Site: same-site (a sibling subdomain)', { csrfpreventiontoken: CSRF, 'sec-fetch-site': 'same-site' }],
    ['the right token, Origin on another port of this s.host', { csrfpreventiontoken: CSRF, origin: 'http://127.0.0.1:1' }],
  ] as const) {
    it(`a write with ${name} -> 403 DP_CSRF, nothing sent upstream`, async () => {
      const h: Record<string, string> = { ...headers };
      if (h['origin'] === 'http://HOST') h['origin'] = `http://${s.host}`;
      const res = await post(h);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_CSRF' });
      expect(s.upstream.seen).toEqual([]);
    });
  }

  it('with the token from /dp/config, same origin, the write passes the guard', async () => {
    const config = JSON.parse((await rawRequest(s.shim.url, 'GET', '/dp/config')).body) as { csrfToken: string };
    for (const extra of [{}, { origin: `http://${s.host}`, 'sec-fetch-site': 'same-origin' }] as Record<string, string>[]) {
      const res = await post({ csrfpreventiontoken: config.csrfToken, ...extra });
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_BAD_REQUEST' });
    }
    expect(s.upstream.seen).toEqual([]);
  });

  it('/dp/config has no CORS header, so another origin cannot read the token', async () => {
    const res = await rawRequest(s.shim.url, 'GET', '/dp/config', { origin: 'https://evil.example' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('GETs need no token', async () => {
    expect((await rawRequest(s.shim.url, 'GET', '/api2/json/nodes')).status).toBe(200);
  });
});
