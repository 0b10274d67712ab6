// SPDX-License-Identifier: AGPL-3.0-or-later
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PveClient } from '../../../src/api/client.js';
import { PveConnectionError } from '../../../src/api/errors.js';
import { nodeTransport } from '../../../src/node/http-transport.js';
import { createPveAgent, normaliseFingerprint } from '../../../src/node/tls.js';
import { type FakePve, ok, startFakePve } from './helpers/fake-pve.js';

let server: FakePve;
let cert: string;
let key: string;
let fingerprint: string;

beforeAll(async () => {
  // Like PVE's default: a self-signed certificate (EC keeps the test fast).
  const pems = await generate([{ name: 'commonName', value: 'pve1.test' }], {
    keyType: 'ec',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  cert = pems.cert;
  key = pems.private;
  fingerprint = new X509Certificate(cert).fingerprint256;
  server = await startFakePve((_req, reply) => ok(reply, { version: '9.2.11', release: '9.2', repoid: '0123456789abcdef' }), {
    https: { key: pems.private, cert: pems.cert },
  });
});
afterAll(() => server.close());

function client(agentOpts: Parameters<typeof createPveAgent>[0]): PveClient {
  return new PveClient({
    baseUrl: server.url,
    auth: { kind: 'token', token: 'audit@pve!dataplane=secret-value' },
    httpsAgent: createPveAgent(agentOpts),
    retries: 0,
  });
}

async function failure(c: PveClient): Promise<PveConnectionError> {
  const err = await c.get('/version').then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PveConnectionError);
  return err as PveConnectionError;
}

describe('TLS: fingerprint pinning', () => {
  it('accepts the server whose leaf certificate has the pinned SHA-256 fingerprint (any notation)', async () => {
    const before = server.requests.length;
    expect(await client({ fingerprint }).get('/version')).toMatchObject({ release: '9.2' });
    expect(await client({ fingerprint: fingerprint.replace(/:/g, '').toLowerCase() }).get('/version')).toMatchObject({
      release: '9.2',
    });
    expect(server.requests.length).toBe(before + 2);
  });

  it('refuses another certificate, naming both fingerprints, before sending a byte of the request', async () => {
    const before = server.requests.length;
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith('AA') ? 'BB' : 'AA');
    const err = await failure(client({ fingerprint: wrong }));
    expect(err.kind).toBe('tls');
    expect(err.maybeSent).toBe(false);
    expect(err.message).toContain(`expected ${wrong}`);
    expect(err.message).toContain(`server presented ${fingerprint}`);
    expect(server.requests.length).toBe(before);
  });
});

describe('TLS: CA verification (default) and --insecure', () => {
  it('refuses a self-signed certificate by default and shows its fingerprint to pin', async () => {
    const before = server.requests.length;
    const err = await failure(client({}));
    expect(err.kind).toBe('tls');
    expect(err.message).toMatch(/server certificate not trusted/);
    expect(err.message).toContain(fingerprint);
    expect(err.message).toContain('--fingerprint');
    expect(server.requests.length).toBe(before);
  });

  it('accepts the certificate when its CA is trusted', async () => {
    expect(await client({ ca: cert }).get('/version')).toMatchObject({ release: '9.2' });
  });

  it('--insecure accepts anything and warns once on creation', async () => {
    const warnings: string[] = [];
    const c = client({ insecure: true, warn: (l) => warnings.push(l) });
    expect(await c.get('/version')).toMatchObject({ release: '9.2' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: --insecure: the PVE server certificate is NOT verified/);
  });

  it('refuses --insecure together with --fingerprint', () => {
    expect(() => createPveAgent({ insecure: true, fingerprint })).toThrow(/exclude each other/);
  });
});

describe('normaliseFingerprint', () => {
  it('accepts colons or not, any case, an optional sha256 prefix', () => {
    const hex = 'ab'.repeat(32);
    const want = Array(32).fill('AB').join(':');
    expect(normaliseFingerprint(hex)).toBe(want);
    expect(normaliseFingerprint(`sha256:${want.toLowerCase()}`)).toBe(want);
  });

  it('explains what a fingerprint looks like', () => {
    expect(() => normaliseFingerprint('AB:CD')).toThrow(/expected a SHA-256 fingerprint, 32 hex bytes like AA:BB:CC/);
    expect(() => normaliseFingerprint('AB'.repeat(20))).toThrow(/pvenode cert info/);
  });
});

describe('TLS: handshake timeout', () => {
  it('gives up on a server that accepts TCP but never completes the TLS handshake', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const c = new PveClient({
        baseUrl: `https://127.0.0.1:${port}`,
        auth: { kind: 'token', token: 'audit@pve!dataplane=secret-value' },
        httpsAgent: createPveAgent({ fingerprint, handshakeTimeoutMs: 150 }),
        retries: 0,
      });
      const err = await failure(c);
      expect(err.kind).toBe('timeout');
      expect(err.message).toMatch(/no TLS handshake with 127\.0\.0\.1:\d+ within 150 ms/);
    } finally {
      silent.close();
    }
  });
});

describe('http:// against an https port', () => {
  it('says the port looks like TLS and to use https://, instead of a bare "connection reset"', async () => {
    const plain = new PveClient({
      baseUrl: server.url.replace(/^https:/, 'http:'),
      auth: { kind: 'token', token: 'audit@pve!dataplane=secret-value' },
      retries: 0,
    });
    const err = await failure(plain);
    expect(err.message).toContain('looks like a TLS (https) port');
    expect(err.message).toContain(`use ${server.url}`);
  });
});

describe('http:// base that speaks HTTP', () => {
  it('a connection reset after an HTTP answer is a plain reset, with no "use https://" hint', async () => {
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      if (req.url?.endsWith('/version')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ data: { version: '9.1.1' } }));
      } else req.socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new PveClient({
        baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        auth: { kind: 'token', token: 'audit@pve!dataplane=secret-value' },
        retries: 0,
      });
      await c.get('/version');
      const err = await c.get('/nodes').then(
        () => null,
        (e: unknown) => e as PveConnectionError,
      );
      expect(err).toBeInstanceOf(PveConnectionError);
      expect(err!.message).toContain('connection reset');
      expect(err!.message).not.toContain('looks like a TLS');
    } finally {
      server.close();
    }
  });
});

describe('TLS: connections opened ahead (the first round of an audit sends 4 requests at once)', () => {
  /** An https server counting connections (open and in all) and the requests it read. */
  async function countingServer() {
    const https = await import('node:https');
    const open = new Set<unknown>();
    const seen = { connections: 0, requests: 0, open };
    const srv = https.createServer({ key, cert }, (_req, res) => {
      seen.requests++;
      // Answers after a while, like PVE: the requests of a round are in flight together.
      setTimeout(() => res.end('{"data":{}}'), 20);
    });
    // TCP connections: a client that drops a connection after its own handshake check may do so
    // before the server sees the handshake end.
    srv.on('connection', (s: import('node:net').Socket) => {
      seen.connections++;
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(srv.address() as { port: number }).port}`;
    return { seen, url, close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
  }
  const until = async (what: () => boolean): Promise<void> => {
    for (const deadline = Date.now() + 10_000; !what(); ) {
      if (Date.now() > deadline) throw new Error('condition not met within 10 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('opens the rest of maxSockets with the second connection, and later requests find them instead of handshaking', async () => {
    const srv = await countingServer();
    const agent = createPveAgent({ fingerprint, maxSockets: 8 });
    const send = nodeTransport({ httpsAgent: agent });
    const get = () => send({ method: 'GET', url: `${srv.url}/api2/json/version`, headers: {}, timeoutMs: 5000 });
    try {
      expect((await Promise.all([get(), get(), get(), get()])).map((r) => r.status)).toEqual([200, 200, 200, 200]);
      await until(() => srv.seen.connections === 8);
      expect((await Promise.all(Array.from({ length: 8 }, get))).map((r) => r.status)).toEqual(Array(8).fill(200));
      // 8 in flight never needed a 9th connection: the 4 spares carried the extra requests.
      expect(srv.seen.connections).toBe(8);
      expect(srv.seen.requests).toBe(12);
      agent.destroy();
      await until(() => srv.seen.open.size === 0);
    } finally {
      agent.destroy();
      await srv.close();
    }
  });

  it('a single request at a time opens one connection only', async () => {
    const srv = await countingServer();
    const agent = createPveAgent({ fingerprint, maxSockets: 8 });
    const send = nodeTransport({ httpsAgent: agent });
    try {
      for (let i = 0; i < 3; i++) await send({ method: 'GET', url: `${srv.url}/api2/json/version`, headers: {}, timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(srv.seen).toMatchObject({ connections: 1, requests: 3 });
    } finally {
      agent.destroy();
      await srv.close();
    }
  });

  it('token-to-wrong-certificate-with-spares: with a wrong pin no connection, spare or not, carries a request byte', async () => {
    const srv = await countingServer();
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith('AA') ? 'BB' : 'AA');
    const agent = createPveAgent({ fingerprint: wrong, maxSockets: 8 });
    const send = nodeTransport({ httpsAgent: agent });
    const get = () =>
      send({ method: 'GET', url: `${srv.url}/api2/json/version`, headers: { Authorization: 'PVEAPIToken=a@pve!b=secret' }, timeoutMs: 5000 }).then(
        () => 'answered',
        (e: { code?: string }) => e.code,
      );
    try {
      expect(await Promise.all([get(), get(), get(), get()])).toEqual(Array(4).fill('DP_TLS_FINGERPRINT_MISMATCH'));
      // The spares' handshakes end too (and fail the same check); none of them is used.
      await until(() => srv.seen.connections === 8 && srv.seen.open.size === 0);
      expect(await Promise.all([get(), get()])).toEqual(Array(2).fill('DP_TLS_FINGERPRINT_MISMATCH'));
      expect(srv.seen.requests).toBe(0);
    } finally {
      agent.destroy();
      await srv.close();
    }
  });
});
