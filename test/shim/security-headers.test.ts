// SPDX-License-Identifier: AGPL-3.0-or-later
// Security regression: every answer of the shim carries the security headers (no framing by other
// sites, no MIME sniffing, no referrer), including the answers no route handler writes: Fastify's
// own 400 for a URL it cannot decode, node:http's 400/431 for bytes it cannot parse, 404s, and
// refusals. An answer without them could be framed or sniffed as HTML on the shim's origin.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_CSP, PANEL_CSP, SECURITY_HEADERS } from '../../api-shim/security-headers.js';
import { parseAnswers, rawSocket, shimOverRecordingUpstream } from './helpers.js';

describe('security-headers-on-framework-errors', () => {
  const s = shimOverRecordingUpstream();

  const cases: [string, () => string, number][] = [
    ['a URL Fastify cannot decode (FST_ERR_BAD_URL)', () => `GET /dp/%E0%A4%A HTTP/1.1\r\nHost: ${s.host}\r\n\r\n`, 400],
    ['a bad path below the API', () => `GET /api2/json/nodes/%2e%2e/access HTTP/1.1\r\nHost: ${s.host}\r\n\r\n`, 400],
    ['a 404', () => `GET /no/such/page HTTP/1.1\r\nHost: ${s.host}\r\n\r\n`, 404],
    ['a method the route does not have', () => `DELETE /dp/config HTTP/1.1\r\nHost: ${s.host}\r\n\r\n`, 404],
    ['garbage instead of a request line (node:http clientError)', () => 'GARBAGE\r\n\r\n', 400],
    ['a bare LF inside a header (node:http clientError)', () => `GET /dp/config HTTP/1.1\r\nHost: ${s.host}\r\nX: a\rb\r\n\r\n`, 400],
    ['a header block over the limit (431)', () => `GET /dp/config HTTP/1.1\r\nHost: ${s.host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a framing refusal', () => `GET /dp/config HTTP/1.1\r\nHost: ${s.host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ['a write through the proxy', () => `POST /api2/json/nodes HTTP/1.1\r\nHost: ${s.host}\r\nContent-Length: 0\r\n\r\n`, 403],
    ['an upstream answer', () => `GET /api2/json/nodes HTTP/1.1\r\nHost: ${s.host}\r\n\r\n`, 200],
  ];
  for (const [name, request, status] of cases) {
    it(`${name} -> ${status} with every security header`, async () => {
      const { text } = await rawSocket(s.shim.url, request(), 200);
      const [answer] = parseAnswers(text);
      expect(answer?.status).toBe(status);
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(answer!.headers[k], k).toBe(v);
    });
  }

  it('none of the refused requests reached PVE', () => {
    expect(s.upstream.seen.map((s) => s.url)).toEqual(['/api2/json/nodes']);
  });
});

// An API answer opened as a page (a link, a hostile upstream's HTML) must not run as the shim's
// origin: only the panel's own files get the panel's CSP; everything else is sandboxed data.
describe('csp-of-data-answers', () => {
  const panelDir = mkdtempSync(join(tmpdir(), 'dp-panel-'));
  writeFileSync(join(panelDir, 'index.html'), '<!doctype html><title>panel</title>');
  writeFileSync(join(panelDir, 'main.js'), 'export {};');
  afterAll(() => rmSync(panelDir, { recursive: true, force: true }));
  const s = shimOverRecordingUpstream({ panelDir });

  const get = async (path: string) => parseAnswers((await rawSocket(s.shim.url, `GET ${path} HTTP/1.1\r\nHost: ${s.host}\r\n\r\n`, 200)).text)[0]!;
  for (const path of ['/', '/index.html', '/main.js']) {
    it(`the panel's ${path} gets the panel's CSP`, async () => {
      const answer = await get(path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-security-policy']).toBe(PANEL_CSP);
      expect(answer.headers['x-frame-options']).toBe('DENY');
    });
  }
  for (const path of ['/api2/json/nodes', '/dp/config', '/dp/jobs', '/api2/json/access/users']) {
    it(`${path} gets the sandbox CSP`, async () => {
      const answer = await get(path);
      expect(answer.headers['content-security-policy']).toBe(API_CSP);
      expect(API_CSP).toContain('sandbox');
    });
  }
});
