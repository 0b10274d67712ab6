// SPDX-License-Identifier: AGPL-3.0-or-later
// Security regression tests for request smuggling and desync: raw bytes over a socket to a shim in
// front of a recording upstream. A GET or HEAD that carries a body (Content-Length or
// Transfer-Encoding) was forwarded with its length but without its body, so PVE read the first N
// bytes of the next request on the kept-alive upstream socket as the rest of this one: an attacker
// chose N to turn a header value into a new request line, which the shim then authenticated with
// its own token. Such requests are now refused before any byte goes upstream.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CSRF, parseAnswers, rawRequest, rawSocket, recordingUpstream, startShim, type Seen } from './helpers.js';

const SMUGGLED = 'POST /api2/json/nodes/pve1/qemu/100/config HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\n\r\nscsihw=lsi&x=1';

describe('request smuggling and desync', () => {
  let upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  let shim: { url: string; close(): Promise<void> };
  let host: string;
  beforeAll(async () => {
    upstream = await recordingUpstream();
    // A short upstream timeout: a poisoned upstream socket would show as a 502, not a hung test.
    shim = await startShim({ upstream: upstream.url, upstreamTimeoutMs: 3000 });
    host = new URL(shim.url).host;
  });
  afterAll(async () => {
    await shim.close();
    await upstream.close();
  });
  beforeEach(() => void (upstream.seen.length = 0));

  it('smuggling-get-with-body: a GET with a Content-Length body is refused, nothing reaches PVE', async () => {
    const req = `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`;
    const { text, closedByServer } = await rawSocket(shim.url, req);
    const answers = parseAnswers(text);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.status).toBe(400);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ code: 'DP_BAD_FRAMING' });
    expect(answers[0]!.headers['x-frame-options']).toBe('DENY');
    expect(closedByServer).toBe(true);
    expect(upstream.seen).toEqual([]);
  });

  it('smuggling-head-with-body: the same through HEAD', async () => {
    const req = `HEAD /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`;
    const { text } = await rawSocket(shim.url, req);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(upstream.seen).toEqual([]);
  });

  it('smuggling-get-content-length-zero: even an empty declared body is refused (the panel never sends one)', async () => {
    const { text } = await rawSocket(shim.url, `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(upstream.seen).toEqual([]);
  });

  it('te-chunked-get: a chunked GET carrying a request in its chunk is refused, nothing reaches PVE', async () => {
    const chunk = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;
    const { text, closedByServer } = await rawSocket(shim.url, `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
    const answers = parseAnswers(text);
    expect(answers.map((a) => a.status)).toEqual([400]);
    expect(closedByServer).toBe(true);
    expect(upstream.seen).toEqual([]);
  });

  it('te-cl-conflict: Content-Length and Transfer-Encoding together get a 400 with the security headers', async () => {
    const { text } = await rawSocket(
      shim.url,
      `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
    const [answer] = parseAnswers(text);
    expect(answer!.status).toBe(400);
    expect(answer!.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(upstream.seen).toEqual([]);
  });

  for (const [name, header] of [
    ['te-obfuscated', 'Transfer-Encoding: xchunked'],
    ['expect-continue-get', 'Expect: 100-continue'],
    ['upgrade-websocket-get', 'Connection: Upgrade\r\nUpgrade: websocket'],
    ['te-trailers-get', 'TE: trailers'],
  ] as const) {
    it(`${name}: refused before PVE`, async () => {
      const { text } = await rawSocket(shim.url, `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\n${header}\r\n\r\n`);
      expect(text).toMatch(/^HTTP\/1\.1 (400|501) /);
      expect(upstream.seen).toEqual([]);
    });
  }

  it('desync-socket-poisoning: after 8 GETs with bodies, innocent requests on other sockets still get 200 at once', async () => {
    for (let i = 0; i < 8; i++) {
      const body = 'GET /api2/json/nodes HTTP/1.1\r\nHost: x\r\nX-Pad: ';
      await rawSocket(shim.url, `GET /api2/json/cluster/resources HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${body.length + 100}\r\n\r\n${body}`, 100);
    }
    expect(upstream.seen).toEqual([]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => rawRequest(shim.url, 'GET', '/api2/json/nodes')));
    // A poisoned upstream socket would wait out the 3 s upstream timeout and answer 502.
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(upstream.seen.map((s) => `${s.method} ${s.url}`)).toEqual(Array(10).fill('GET /api2/json/nodes'));
  });

  it('desync-pipelined: a refused request closes the socket; the pipelined request behind it is never answered or forwarded', async () => {
    const { text } = await rawSocket(
      shim.url,
      `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api2/json/storage HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    );
    expect(parseAnswers(text).map((a) => a.status)).toEqual([400]);
    expect(upstream.seen).toEqual([]);
  });

  it('hop-by-hop-headers: a clean GET reaches PVE with only the content headers and the shim token', async () => {
    const { text } = await rawSocket(
      shim.url,
      `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\nConnection: keep-alive, X-Keep\r\nX-Keep: 1\r\nKeep-Alive: timeout=5\r\n` +
        `Proxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\nCookie: PVEAuthCookie=browser\r\nAuthorization: PVEAPIToken=evil@pve!x=y\r\n` +
        `CSRFPreventionToken: ${CSRF}\r\nX-Forwarded-For: 10.0.0.1\r\nOrigin: http://${host}\r\n\r\n`,
      200,
    );
    expect(parseAnswers(text)[0]!.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    const sent = upstream.seen[0]!.headers;
    expect(Object.keys(sent).sort()).toEqual(['accept', 'authorization', 'connection', 'host']);
    expect(sent['authorization']).toMatch(/^PVEAPIToken=audit@pve!panel=/);
    // node:http's own keep-alive towards PVE, not the client's.
    expect(sent['connection']).toBe('keep-alive');
  });

  it('cors-relay: upstream CORS, cookies and framing policy never reach the browser', async () => {
    const res = await rawRequest(shim.url, 'GET', '/api2/json/nodes', { origin: 'https://evil.example' });
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    for (const h of Object.keys(res.headers)) expect(h).not.toMatch(/^access-control-|^set-cookie$/);
    // node:http's own keep-alive towards the browser, not PVE's.
    expect(res.headers['keep-alive']).not.toBe('timeout=600');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('duplicate-host: a loopback Host followed by a foreign one is refused (400), nothing reaches PVE', async () => {
    const { text, closedByServer } = await rawSocket(shim.url, `GET /api2/json/nodes HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\n\r\n`);
    const answers = parseAnswers(text);
    expect(answers.map((a) => a.status)).toEqual([400]);
    expect(JSON.parse(answers[0]!.body).message).toContain('more than one host header');
    expect(closedByServer).toBe(true);
    expect(upstream.seen).toEqual([]);
  });

  it('duplicate-csrf-token: two CSRFPreventionToken headers on a write are refused before PVE sees either', async () => {
    const body = 'scsihw=virtio-scsi-single';
    const req = `PUT /api2/json/nodes/pve1/qemu/100/config HTTP/1.1\r\nHost: ${host}\r\nCSRFPreventionToken: ${CSRF}\r\nCSRFPreventionToken: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const { text } = await rawSocket(shim.url, req);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(upstream.seen).toEqual([]);
  });
});
