// SPDX-License-Identifier: AGPL-3.0-or-later
// Security regression tests: a hostile client on the LAN writing raw bytes to a read-only shim in
// front of a recording upstream. Each test is named after the attack. For every one the shim must
// answer with its own refusal (status, code, security headers) before any upstream contact: the
// upstream records every request it sees and must see none, and no answer may carry the shim's
// token. Variants already covered elsewhere (smuggling.test.ts: GET/HEAD with a body, chunked GET,
// CL+TE, Expect/Upgrade: websocket on a GET, duplicate Host/CSRF token, desync; path-traversal.test.ts:
// `..`, `%2e%2e`, `%2f`, `//`, `\`, NUL; dns-rebinding.test.ts: a foreign Host) are not repeated here.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HEADER_LINES } from '../../api-shim/http-hygiene.js';
import { MAX_TARGET_LENGTH } from '../../api-shim/plugins/pve-proxy.js';
import { API_CSP, SECURITY_HEADERS } from '../../api-shim/security-headers.js';
import { CSRF, SECRET, parseAnswers, rawRequest, rawSocket, type RawSocketAnswer, shimOverRecordingUpstream, startShim } from './helpers.js';

const NODES = '/api2/json/nodes';

describe('raw-socket attacks on a read-only shim', () => {
  const s = shimOverRecordingUpstream({ readOnly: true });
  const h = (): string => `Host: ${s.host}\r\n`;

  /** Sends `bytes`, returns the answers; the token never appears in anything the shim wrote. */
  async function attack(bytes: string | Buffer): Promise<{ answers: RawSocketAnswer[]; text: string; closedByServer: boolean }> {
    s.upstream.seen.length = 0;
    const { text, closedByServer } = await rawSocket(s.shim.url, bytes, 200);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('PVEAPIToken');
    return { answers: parseAnswers(text), text, closedByServer };
  }

  /** One answer, `status` with `code` and every security header, the socket closed when `closes`, nothing upstream. */
  async function refused(bytes: string | Buffer, status: number, code: string | null, closes: boolean): Promise<RawSocketAnswer> {
    const { answers, closedByServer } = await attack(bytes);
    expect(answers.map((a) => a.status)).toEqual([status]);
    const [answer] = answers;
    if (code) expect(JSON.parse(answer!.body)).toMatchObject({ data: null, code });
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(answer!.headers[k], k).toBe(v);
    if (closes) expect(closedByServer).toBe(true);
    expect(s.upstream.seen).toEqual([]);
    return answer!;
  }

  // Request smuggling: any header the shim and another hop could frame differently.
  it('smuggling-two-content-lengths: equal and differing Content-Length pairs are refused', async () => {
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}Content-Length: 0\r\nContent-Length: 0\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
    await refused(`POST /dp/plans HTTP/1.1\r\n${h()}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}`, 400, 'DP_BAD_FRAMING', true);
  });

  it('smuggling-te-chunked-identity: a Transfer-Encoding list is refused', async () => {
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
  });

  it('smuggling-obs-fold: a header continued on the next line (Transfer-Encoding, Host) is refused', async () => {
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
    await refused(`GET ${NODES} HTTP/1.1\r\nHost: localhost\r\n evil.example\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
  });

  it('smuggling-bare-lf: LF-only line ends, alone or hiding a Transfer-Encoding, are refused', async () => {
    await refused(`GET ${NODES} HTTP/1.1\n${h().replace('\r', '')}\n`, 400, 'DP_BAD_FRAMING', true);
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}X-A: a\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
  });

  it('smuggling-nul-in-request: NUL in a header value or the path is refused', async () => {
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}X-A: a\0b\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
    await refused(`GET ${NODES}\0 HTTP/1.1\r\n${h()}\r\n`, 400, 'DP_BAD_FRAMING', true);
  });

  it('smuggling-space-before-colon: `Transfer-Encoding : chunked` is refused', async () => {
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
  });

  // node:http silently drops header lines past its count (2,000) from what the hooks see, but
  // its parser still frames the message by them: these three reached PVE as clean GETs.
  for (const [name, tail, body] of [
    ['smuggling-header-past-the-count-transfer-encoding', 'Transfer-Encoding: chunked', '5\r\nhello\r\n0\r\n\r\n'],
    ['smuggling-header-past-the-count-content-length', 'Content-Length: 5', 'hello'],
    ['smuggling-header-past-the-count-second-host', 'Host: evil.example', ''],
  ] as const) {
    it(`${name}: 2,100 filler lines then \`${tail}\` -> 431 DP_TOO_MANY_HEADERS`, async () => {
      await refused(`GET ${NODES} HTTP/1.1\r\n${h()}${'a:\r\n'.repeat(2100)}${tail}\r\n\r\n${body}`, 431, 'DP_TOO_MANY_HEADERS', true);
    });
  }

  it(`many-headers: ${MAX_HEADER_LINES + 1} header lines are refused, ${MAX_HEADER_LINES} are answered`, async () => {
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}${'X-A: 1\r\n'.repeat(MAX_HEADER_LINES)}\r\n`, 431, 'DP_TOO_MANY_HEADERS', true);
    const { answers } = await attack(`GET ${NODES} HTTP/1.1\r\n${h()}${'X-A: 1\r\n'.repeat(MAX_HEADER_LINES - 1)}\r\n`);
    expect(answers.map((a) => a.status)).toEqual([200]);
  });

  // Targets only a proxy is asked for.
  it('absolute-form-target: `GET http://evil/api2/json/...` and `GET http://<shim>/dp/config` are refused, not routed', async () => {
    await refused(`GET http://evil.example${NODES} HTTP/1.1\r\n${h()}\r\n`, 400, 'DP_NOT_A_PROXY', true);
    const answer = await refused(`GET http://${s.host}/dp/config HTTP/1.1\r\n${h()}\r\n`, 400, 'DP_NOT_A_PROXY', true);
    expect(answer.body).not.toContain(CSRF);
  });

  it('connect-authority-form: CONNECT to any host gets 400 with the security headers, no tunnel', async () => {
    const upstreamHost = new URL(s.upstream.url).host;
    for (const target of ['evil.example:443', upstreamHost]) {
      await refused(`CONNECT ${target} HTTP/1.1\r\n${h()}\r\n`, 400, 'DP_NOT_A_PROXY', true);
    }
  });

  it('options-asterisk-form: `OPTIONS *` is refused', async () => {
    await refused(`OPTIONS * HTTP/1.1\r\n${h()}\r\n`, 400, 'DP_NOT_A_PROXY', true);
  });

  it('trace-method: TRACE echoes nothing back (no Cookie, no Authorization) and reaches no one', async () => {
    for (const path of [NODES, '/dp/config', '/']) {
      const answer = await refused(`TRACE ${path} HTTP/1.1\r\n${h()}Cookie: PVEAuthCookie=mine\r\nAuthorization: Basic c2VjcmV0\r\n\r\n`, 404, null, false);
      expect(answer.body).not.toMatch(/PVEAuthCookie|c2VjcmV0/);
    }
  });

  // Versions and Host.
  it('http09-request-line: a request line without a version is refused 505', async () => {
    await refused(`GET ${NODES}\r\n\r\n`, 505, 'DP_HTTP_VERSION', true);
  });

  it('http2-request-line: `HTTP/2.0` in an HTTP/1 request line is refused 505 (it was forwarded)', async () => {
    await refused(`GET ${NODES} HTTP/2.0\r\n${h()}\r\n`, 505, 'DP_HTTP_VERSION', true);
  });

  it('http10-without-host: HTTP/1.0 without Host is refused 403, HTTP/1.1 without Host 400 (both with the security headers)', async () => {
    await refused(`GET ${NODES} HTTP/1.0\r\n\r\n`, 403, 'DP_HOST_NOT_ALLOWED', true);
    await refused(`GET ${NODES} HTTP/1.1\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
  });

  it('host-port-not-a-number: `Host: 127.0.0.1:evil.example` is refused (it was read as 127.0.0.1 and answered)', async () => {
    for (const host of ['127.0.0.1:evil.example', 'localhost:80:evil.example', '[::1]evil.example', 'localhost:']) {
      for (const path of ['/dp/config', NODES]) {
        const answer = await refused(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 403, 'DP_HOST_NOT_ALLOWED', false);
        expect(answer.body).not.toContain(CSRF);
      }
    }
  });

  it('host-look-alikes: names that start or end like a loopback name are refused', async () => {
    for (const host of ['localhost.evil.example', '127.0.0.1.evil.example', 'evil@localhost', 'evil.example#@localhost', '']) {
      await refused(`GET ${NODES} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 403, 'DP_HOST_NOT_ALLOWED', false);
    }
  });

  // Protocol switches and Expect on what the LAN can reach.
  it('upgrade-h2c: an h2c upgrade of an API read is refused', async () => {
    const { text } = await attack(`GET ${NODES} HTTP/1.1\r\n${h()}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).not.toContain('101 Switching');
    expect(s.upstream.seen).toEqual([]);
  });

  it('http2-prior-knowledge: the HTTP/2 connection preface is refused', async () => {
    await refused('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'DP_BAD_FRAMING', true);
  });

  it('expect-continue-on-write: a write with Expect: 100-continue gets no 100 Continue, only a 400', async () => {
    const { text } = await attack(`POST /dp/plans HTTP/1.1\r\n${h()}Expect: 100-continue\r\nContent-Type: application/json\r\nCSRFPreventionToken: ${CSRF}\r\nContent-Length: 2\r\n\r\n`);
    expect(text).not.toContain('100 Continue');
    expect(parseAnswers(text).map((a) => a.status)).toEqual([400]);
    expect(s.upstream.seen).toEqual([]);
  });

  it('pipelined-write-in-read-only: a write pipelined behind a good read is refused; only the read reaches PVE', async () => {
    const write = `PUT /api2/json/nodes/pve1/qemu/100/config HTTP/1.1\r\n${h()}CSRFPreventionToken: ${CSRF}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nscsihw=lsi`;
    const { answers } = await attack(`GET ${NODES} HTTP/1.1\r\n${h()}\r\n${write}GET /api2/json/access/users HTTP/1.1\r\n${h()}\r\n`);
    expect(answers.map((a) => a.status)).toEqual([200, 403, 403]);
    expect(JSON.parse(answers[1]!.body)).toMatchObject({ code: 'DP_AUDIT_READ_ONLY' });
    expect(JSON.parse(answers[2]!.body)).toMatchObject({ code: 'DP_PATH_NOT_ALLOWED' });
    expect(s.upstream.seen.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${NODES}`]);
  });

  it('read-only-job-api: every job write, in any spelling and with the CSRF token, is 403 DP_AUDIT_READ_ONLY before its body is read', async () => {
    const bodies: [string, string][] = [
      ['/dp/jobs', '{"planId":"p-1","reboot":"now"}'],
      ['/%64p/jobs', '{"planId":"p-1","reboot":"now"}'],
      ['/dp/%6aobs', '{"planId":"p-1","reboot":"now"}'],
      ['/dp/jobs/j-1/rollback', '{"reboot":"now"}'],
      ['/dp/jobs/j-1/resume', '{}'],
      ['/dp/jobs/j-1/cancel', '{}'],
      // Not JSON at all: refused before the body is parsed.
      ['/dp/jobs', '{"planId":'],
    ];
    for (const [path, body] of bodies) {
      const answer = await refused(
        `POST ${path} HTTP/1.1\r\n${h()}Origin: http://${s.host}\r\nSec-Fetch-Site: same-origin\r\nCSRFPreventionToken: ${CSRF}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        403,
        'DP_AUDIT_READ_ONLY',
        false,
      );
      expect(JSON.parse(answer.body).message, path).toMatch(/^read-only mode: POST \/dp\/jobs/);
    }
  });

  // Path tricks that reach past the allow-list's reading of the path.
  it('path-percent-encoded-letters: `%6eodes` reaches PVE as the path that was checked, `nodes`', async () => {
    const { answers } = await attack(`GET /api2/json/%6eodes/pv%651/qemu/100/pending HTTP/1.1\r\n${h()}\r\n`);
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(s.upstream.seen.map((r) => r.url)).toEqual(['/api2/json/nodes/pve1/qemu/100/pending']);
  });

  for (const [name, path, status, code] of [
    ['path-semicolon', '/api2/json/nodes;x=1', 403, 'DP_PATH_NOT_ALLOWED'],
    ['path-matrix-params', '/api2/json/nodes/pve1;a=b/qemu/100/pending', 403, 'DP_PATH_NOT_ALLOWED'],
    ['path-fullwidth-dots', '/api2/json/nodes/%EF%BC%8E%EF%BC%8E/access/users', 403, 'DP_PATH_NOT_ALLOWED'],
    ['path-overlong-utf8-dots', '/api2/json/nodes/%c0%ae%c0%ae/access/users', 400, 'DP_BAD_PATH'],
    ['path-fragment', '/api2/json/nodes#/../access/users', 400, 'DP_BAD_PATH'],
    ['path-query-fragment', '/api2/json/nodes?#/../access/users', 400, 'DP_BAD_PATH'],
    ['path-encoded-query', '/api2/json/nodes%3Ffull=1', 403, 'DP_PATH_NOT_ALLOWED'],
    ['path-very-long', `/api2/json/nodes/${'a'.repeat(MAX_TARGET_LENGTH)}/status`, 414, 'DP_URI_TOO_LONG'],
  ] as const) {
    it(`${name}: ${path.slice(0, 60)} -> ${status} ${code}`, async () => {
      await refused(`GET ${path} HTTP/1.1\r\n${h()}\r\n`, status, code, false);
    });
  }

  it("fragment-in-query-value: `?type=vm#/../x` is refused (the query check read the value `vm#/../x`, PVE reads `vm`)", async () => {
    for (const target of ['/api2/json/cluster/resources?type=vm#/../../access/users', '/api2/json/cluster/resources?type=vm#', '/dp/pending?node=pve1&vmids=100#x']) {
      await refused(`GET ${target} HTTP/1.1\r\n${h()}\r\n`, 400, 'DP_BAD_PATH', true);
    }
  });

  it('path-raw-utf8: a non-ASCII byte in the request line is refused', async () => {
    await refused(Buffer.from(`GET /api2/json/nodes/pve\u00e91/status HTTP/1.1\r\n${h()}\r\n`, 'utf8'), 400, 'DP_BAD_FRAMING', true);
  });

  it('long-headers: a header block over 16 KiB is refused 431', async () => {
    await refused(`GET ${NODES} HTTP/1.1\r\n${h()}Cookie: ${'a'.repeat(17_000)}\r\n\r\n`, 431, 'DP_BAD_FRAMING', true);
  });

  // The batched config read (plugins/pending-batch.ts): one request is up to 500 reads upstream,
  // so the framing rules must hold on its route as on the proxy's.
  it('batch-smuggling: GET /dp/pending with a body, chunked, absolute-form or past the header count reads nothing', async () => {
    const batch = '/dp/pending?node=pve1&vmids=100,101';
    await refused(`GET ${batch} HTTP/1.1\r\n${h()}Content-Length: 5\r\n\r\nhello`, 400, 'DP_BAD_FRAMING', true);
    await refused(`GET ${batch} HTTP/1.1\r\n${h()}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'DP_BAD_FRAMING', true);
    await refused(`GET http://evil.example${batch} HTTP/1.1\r\n${h()}\r\n`, 400, 'DP_NOT_A_PROXY', true);
    await refused(`GET ${batch} HTTP/1.1\r\n${h()}${'a:\r\n'.repeat(2100)}Content-Length: 5\r\n\r\nhello`, 431, 'DP_TOO_MANY_HEADERS', true);
    await refused(`GET ${batch} HTTP/1.1\r\nHost: evil.example\r\n\r\n`, 403, 'DP_HOST_NOT_ALLOWED', false);
  });

  // Fetch Metadata: another site's page (an <img>, a no-cors fetch, a form) made the shim read PVE.
  it('cross-site-read: a read marked Sec-Fetch-Site cross-site or same-site is refused on every route; a link followed to the panel is not', async () => {
    const targets = [NODES, '/api2/json/nodes/pve1/syslog?limit=500000', '/dp/config', '/dp/jobs', '/dp/pending?node=pve1&vmids=100'];
    for (const target of targets) {
      for (const [site, mode] of [['cross-site', 'no-cors'], ['cross-site', 'cors'], ['same-site', 'no-cors'], ['cross-site', 'navigate-post']] as const) {
        const method = mode === 'navigate-post' ? 'POST' : 'GET';
        const body = method === 'POST' ? 'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1\r\n\r\nx' : '\r\n';
        const answer = await refused(`${method} ${target} HTTP/1.1\r\n${h()}Sec-Fetch-Site: ${site}\r\nSec-Fetch-Mode: ${mode.replace('-post', '')}\r\n${body}`, 403, 'DP_CSRF', false);
        expect(answer.body, `${site} ${mode} ${target}`).not.toContain(CSRF);
      }
    }
    // A top-level navigation from another site (a bookmark page, a wiki link) and the panel's own requests are answered.
    for (const headers of ['Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\n', 'Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\n', 'Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\n']) {
      const { answers } = await attack(`GET ${NODES} HTTP/1.1\r\n${h()}${headers}\r\n`);
      expect(answers.map((a) => a.status), headers).toEqual([200]);
    }
  });

  // Hop-by-hop and credentials: PVE only ever sees the shim's own.
  it('hop-by-hop-nominated-credentials: `Connection: close, authorization` and forwarding headers change nothing upstream', async () => {
    const { answers } = await attack(
      `GET ${NODES} HTTP/1.1\r\n${h()}Connection: close, authorization, x-forwarded-for\r\nAuthorization: PVEAPIToken=root@pam!x=y\r\n` +
        `Cookie: PVEAuthCookie=PVE:root@pam:0000\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Host: pve.internal\r\nX-Forwarded-Proto: https\r\n` +
        `Forwarded: for=127.0.0.1;host=pve.internal\r\nX-Real-IP: 127.0.0.1\r\nProxy-Authorization: Basic eDp5\r\n\r\n`,
    );
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(s.upstream.seen).toHaveLength(1);
    const sent = s.upstream.seen[0]!.headers;
    expect(Object.keys(sent).sort()).toEqual(['authorization', 'connection', 'host']);
    expect(sent['authorization']).toMatch(/^PVEAPIToken=audit@pve!panel=/);
    expect(sent['host']).toBe(new URL(s.upstream.url).host);
  });
});

// Response splitting and desync from the other side: an upstream (or whatever answers in its
// place on the LAN, over plain http) writing raw bytes. The shim must never relay a header it
// did not choose, never hand one read's answer to the next, and never leave a client waiting.
describe('hostile upstream answers', () => {
  /** What the fake upstream writes for the next request (one answer per request it reads). */
  let answer = '';
  /** Close the connection after the answer (an answer cut short). */
  let hangUp = false;
  const server = net.createServer((socket) => {
    socket.on('data', () => (hangUp ? socket.end(answer) : socket.write(answer)));
    socket.on('error', () => {});
  });
  let shim: Awaited<ReturnType<typeof startShim>>;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    shim = await startShim({ upstream: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, upstreamTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await shim.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const OK = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
  for (const [name, bytes] of [
    ['response-splitting-obs-fold', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-A: a\r\n Set-Cookie: PVEAuthCookie=evil\r\nContent-Length: 2\r\n\r\n{}'],
    ['response-splitting-bare-lf', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\nSet-Cookie: PVEAuthCookie=evil\r\nContent-Length: 2\r\n\r\n{}'],
    ['response-splitting-bare-cr', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\rSet-Cookie: PVEAuthCookie=evil\r\nContent-Length: 2\r\n\r\n{}'],
    ['response-splitting-nul', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\0Set-Cookie: PVEAuthCookie=evil\r\nContent-Length: 2\r\n\r\n{}'],
    ['response-desync-two-content-lengths', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 60\r\n\r\n{}'],
    ['response-desync-cl-and-te', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'],
    ['upstream-protocol-switch', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nHTTP/1.1 200 OK\r\nSet-Cookie: PVEAuthCookie=evil\r\nContent-Length: 0\r\n\r\n'],
  ] as const) {
    it(`${name}: 502 DP_UPSTREAM_UNREACHABLE at once, nothing of the answer relayed`, async () => {
      answer = bytes;
      const res = await rawRequest(shim.url, 'GET', NODES);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_UPSTREAM_UNREACHABLE' });
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['x-frame-options']).toBe('DENY');
    });
  }

  it("upstream-html-answer: a read answered as HTML or script is relayed with a sandbox CSP (no script, no origin), never the panel's", async () => {
    for (const type of ['text/html; charset=utf-8', 'application/javascript', 'image/svg+xml']) {
      const body = '<script>fetch("/dp/config")</script>';
      answer = `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Security-Policy: script-src *\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const res = await rawRequest(shim.url, 'GET', NODES);
      expect(res.status).toBe(200);
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(res.headers[k], k).toBe(v);
      expect(res.headers['content-security-policy']).toBe(API_CSP);
      expect(API_CSP).toMatch(/(^|; )sandbox($|;)/);
      expect(API_CSP).toContain("default-src 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('upstream-redirect: a 3xx with Location to another host is not followed, and the Location is not relayed', async () => {
    let reached = 0;
    const other = net.createServer((socket) => {
      reached++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const to = `http://127.0.0.1:${(other.address() as net.AddressInfo).port}/api2/json/access/users`;
      for (const status of ['301 Moved Permanently', '302 Found', '307 Temporary Redirect', '308 Permanent Redirect']) {
        answer = `HTTP/1.1 ${status}\r\nLocation: ${to}\r\nRefresh: 0; url=${to}\r\nContent-Length: 0\r\n\r\n`;
        const res = await rawRequest(shim.url, 'GET', NODES);
        expect(res.status).toBe(Number(status.slice(0, 3)));
        expect(res.headers['location']).toBeUndefined();
        expect(res.headers['refresh']).toBeUndefined();
        expect(res.headers['x-frame-options']).toBe('DENY');
      }
      expect(reached).toBe(0);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('response-truncated: an answer cut short of its Content-Length is not passed on as a complete one', async () => {
    hangUp = true;
    try {
      answer = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data":';
      const res = await rawRequest(shim.url, 'GET', NODES);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_UPSTREAM_UNREACHABLE' });
      // Too large to be held whole: the client's connection is cut, it never sees a full answer.
      answer = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"data":"${'a'.repeat(1000)}`;
      const { text, closedByServer } = await rawSocket(shim.url, `GET ${NODES} HTTP/1.1\r\nHost: ${new URL(shim.url).host}\r\n\r\n`, 200);
      expect(closedByServer).toBe(true);
      expect(Buffer.byteLength(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1')).toBeLessThan(100_000);
    } finally {
      hangUp = false;
    }
  });

  it("batch-upstream-protocol-switch: a 101 to each VM's read ends the batch with a 502 record per VM, it does not hang", async () => {
    answer = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
    const { text } = await rawSocket(shim.url, `GET /dp/pending?node=pve1&vmids=100,101 HTTP/1.1\r\nHost: ${new URL(shim.url).host}\r\n\r\n`, undefined, (t) => /\nend \d+\n/.test(t));
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toMatch(/\n100 502 \d+ /);
    expect(text).toMatch(/\n101 502 \d+ /);
    expect(text).toMatch(/\nend 2\n/);
  });

  it('response-queue-poisoning: bytes after an answer are never read as the next read\'s answer', async () => {
    answer = `${OK}HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: PVEAuthCookie=evil\r\nContent-Length: 9\r\n\r\n"planted"`;
    const first = await rawRequest(shim.url, 'GET', NODES);
    answer = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 6\r\n\r\n"real"';
    const second = await rawRequest(shim.url, 'GET', NODES);
    expect([first.body, second.body]).toEqual(['{}', '"real"']);
    expect(second.headers['set-cookie']).toBeUndefined();
  });

  it('upstream-early-hints: a 103 with Link and Set-Cookie before the answer is not relayed', async () => {
    answer = `HTTP/1.1 103 Early Hints\r\nLink: </evil.js>; rel=preload\r\nSet-Cookie: PVEAuthCookie=evil\r\n\r\n${OK}`;
    const { text } = await rawSocket(shim.url, `GET ${NODES} HTTP/1.1\r\nHost: ${new URL(shim.url).host}\r\n\r\n`, 200);
    expect(parseAnswers(text).map((a) => a.status)).toEqual([200]);
    expect(text).not.toMatch(/103|evil/);
  });
});
