// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: a client cannot hold the shim's sockets by sending a request slowly or not at
// all (slowloris). Node's defaults let a trickling client keep a socket for up to 90 s; the shim
// cuts it after `limits.headersTimeoutMs` (10 s by default; 400 ms here), on HTTP and on HTTPS.
import net from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveShimOptions } from '../../api-shim/options.js';
import { CSRF, TOKEN, rawRequest, recordingUpstream, startShim } from './helpers.js';

const HEADERS_MS = 400;
/** Generous for a loaded 2-core machine: the check runs every 400 ms here. */
const CUT_WITHIN_MS = 5_000;

type Opened = (port: number) => net.Socket;

/** Opens a socket, runs `feed` on it, resolves with how long the server kept it and what it said. */
function hold(open: Opened, port: number, feed: (s: net.Socket) => void): Promise<{ ms: number; text: string; cut: boolean }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let text = '';
    const s = open(port);
    const giveUp = setTimeout(() => {
      s.destroy();
      resolve({ ms: Date.now() - t0, text, cut: false });
    }, CUT_WITHIN_MS);
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(giveUp);
      resolve({ ms: Date.now() - t0, text, cut: true });
    });
    feed(s);
  });
}

/** Writes `bytes` one at a time every 100 ms, never finishing the headers in time. */
function trickle(s: net.Socket, bytes: string): void {
  let i = 0;
  const t = setInterval(() => {
    if (s.destroyed || i >= bytes.length) return clearInterval(t);
    s.write(bytes[i++]!);
  }, 100);
  s.on('close', () => clearInterval(t));
}

const plain: Opened = (port) => net.connect(port, '127.0.0.1');
const overTls: Opened = (port) => tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });

describe('slow clients', () => {
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const shims: { name: string; open: Opened; port: number; url: string; close(): Promise<void> }[] = [];
  beforeAll(async () => {
    upstream = await recordingUpstream();
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
    for (const [name, open, extra] of [
      ['http', plain, {}],
      ['https', overTls, { tls: { cert: pems.cert, key: pems.private } }],
    ] as const) {
      const shim = await startShim({ upstream: upstream.url, limits: { headersTimeoutMs: HEADERS_MS }, ...extra });
      shims.push({ name, open, port: Number(new URL(shim.url).port), url: shim.url, close: shim.close });
    }
  });
  afterAll(async () => {
    for (const s of shims) await s.close();
    await upstream.close();
  });

  it('slowloris-trickled-headers: headers sent a byte every 100 ms are cut off, nothing reaches PVE', async () => {
    for (const shim of shims) {
      const r = await hold(shim.open, shim.port, (s) => trickle(s, `GET /api2/json/cluster/resources HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(200)}\r\n\r\n`));
      expect(r.cut, shim.name).toBe(true);
      expect(r.ms, shim.name).toBeGreaterThanOrEqual(HEADERS_MS - 50);
      expect(r.text, shim.name).not.toMatch(/^HTTP\/1\.1 200/);
    }
    expect(upstream.seen).toEqual([]);
  });

  it('slowloris-trickled-body: a write whose body comes a byte every 100 ms is cut off (408) within 3x the header limit', async () => {
    for (const shim of shims) {
      const head = `POST /dp/plans HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nCSRFPreventionToken: ${CSRF}\r\nContent-Length: 1000\r\n\r\n{`;
      const r = await hold(shim.open, shim.port, (s) => {
        s.write(head);
        trickle(s, ' '.repeat(999));
      });
      expect(r.cut, shim.name).toBe(true);
      expect(r.ms, shim.name).toBeGreaterThanOrEqual(3 * HEADERS_MS - 50);
      expect(r.text, shim.name).toMatch(/^HTTP\/1\.1 408 /);
    }
    expect(upstream.seen).toEqual([]);
  });

  it('slowloris-silent-connection: a connection that never sends a byte is closed', async () => {
    for (const shim of shims) {
      const r = await hold(shim.open, shim.port, () => {});
      expect(r.cut, shim.name).toBe(true);
    }
  });

  it('a client that sends its request at once is answered as before', async () => {
    const res = await rawRequest(shims[0]!.url, 'GET', '/api2/json/cluster/resources');
    expect(res.status).toBe(200);
  });

  it('the default gives a client 10 s for its headers, and a bad value is refused naming the option', () => {
    expect(DEFAULT_LIMITS.headersTimeoutMs).toBe(10_000);
    expect(() => resolveShimOptions({ upstream: 'https://pve1:8006', token: TOKEN, panelDir: null, limits: { headersTimeoutMs: 5 } })).toThrow(
      /limits\.headersTimeoutMs/,
    );
  });
});
