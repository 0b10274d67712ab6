// SPDX-License-Identifier: AGPL-3.0-or-later
// Security regression: a client that opens sockets and sends nothing (or trickles) held as many as
// it opened: 3,000 idle sockets from one address all stayed open, each a file descriptor and
// memory, with nothing to stop a client opening them faster than the 10 s header timeout closes
// them. The shim now keeps at most `limits.connectionsPerAddress` per client address (an IPv6 /64)
// and `limits.connections` in total; the one over is answered 503 and closed, nothing goes to PVE.
import net from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey } from '../../api-shim/connection-limit.js';
import { DEFAULT_LIMITS, resolveShimOptions } from '../../api-shim/options.js';
import { SECURITY_HEADERS } from '../../api-shim/security-headers.js';
import { SECRET, TOKEN, parseAnswers, rawSocket, recordingUpstream, startShim } from './helpers.js';

const PER_ADDRESS = 4;
const TOTAL = 6;

/** Opens a TCP connection from `localAddress` and resolves once it is connected. */
function open(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves once the server counts `n` connections (accepting is asynchronous to the client's connect). */
async function serverHolds(server: net.Server, n: number): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const count = await new Promise<number>((resolve) => server.getConnections((_e, c) => resolve(c)));
    if (count === n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the server never held ${n} connections`);
}

describe('many-idle-sockets', () => {
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let shim: Awaited<ReturnType<typeof startShim>>;
  let port: number;
  const held: net.Socket[] = [];
  beforeAll(async () => {
    upstream = await recordingUpstream();
    // A long header timeout: the held sockets send nothing and must stay open for the whole test.
    shim = await startShim({ upstream: upstream.url, limits: { connectionsPerAddress: PER_ADDRESS, connections: TOTAL, headersTimeoutMs: 120_000 } });
    port = Number(new URL(shim.url).port);
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await shim.close();
    await upstream.close();
  });

  /** What the server says to one more connection from `localAddress`, which sends a read. */
  async function oneMore(localAddress: string): Promise<{ text: string; closedByServer: boolean }> {
    const s = await open(port, localAddress);
    return new Promise((resolve) => {
      let text = '';
      let closedByServer = false;
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('end', () => (closedByServer = true));
      s.on('error', () => (closedByServer = true));
      s.on('close', () => resolve({ text, closedByServer }));
      s.write(`GET /api2/json/nodes HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      setTimeout(() => s.destroy(), 5_000);
    });
  }

  function expectRefused(r: { text: string; closedByServer: boolean }, why: RegExp): void {
    expect(r.closedByServer).toBe(true);
    expect(r.text).not.toContain(SECRET);
    const answers = parseAnswers(r.text);
    expect(answers.map((a) => a.status)).toEqual([503]);
    const body = JSON.parse(answers[0]!.body) as { code: string; message: string };
    expect(body.code).toBe('DP_TOO_MANY_CONNECTIONS');
    expect(body.message).toMatch(why);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(answers[0]!.headers[k], k).toBe(v);
  }

  it(`one address: ${PER_ADDRESS} idle sockets are kept, the next is answered 503 and closed; a freed one is usable again`, async () => {
    for (let i = 0; i < PER_ADDRESS; i++) held.push(await open(port));
    await serverHolds(shim.app.server, PER_ADDRESS);
    upstream.seen.length = 0;
    expectRefused(await oneMore('127.0.0.1'), /connections from 127\.0\.0\.1 are open \(at most 4\)/);
    expect(upstream.seen).toEqual([]);
    held.pop()!.destroy();
    await serverHolds(shim.app.server, PER_ADDRESS - 1);
    const { text } = await rawSocket(shim.url, `GET /api2/json/nodes HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 200);
    expect(parseAnswers(text).map((a) => a.status)).toEqual([200]);
    await serverHolds(shim.app.server, PER_ADDRESS - 1);
  });

  it(`every address: past ${TOTAL} connections in total a new address is refused too`, async () => {
    // 3 held from 127.0.0.1 (the test above), 3 more from 127.0.0.2: the total is reached.
    while (held.length < TOTAL) held.push(await open(port, '127.0.0.2'));
    await serverHolds(shim.app.server, TOTAL);
    upstream.seen.length = 0;
    expectRefused(await oneMore('127.0.0.3'), /6 connections are open \(at most 6\)/);
    expect(upstream.seen).toEqual([]);
  });
});

describe('many-idle-sockets over TLS', () => {
  it('the one over the cap is closed before the handshake', async () => {
    const upstream = await recordingUpstream();
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
    const shim = await startShim({ upstream: upstream.url, tls: { cert: pems.cert, key: pems.private }, limits: { connectionsPerAddress: 1 } });
    const port = Number(new URL(shim.url).port);
    const first = await open(port);
    let second: tls.TLSSocket | undefined;
    try {
      await serverHolds(shim.app.server, 1);
      const error = await new Promise<Error | null>((resolve) => {
        second = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(null));
        second.on('error', resolve);
      });
      expect(error?.message).toMatch(/socket disconnected|ECONNRESET/);
      expect(upstream.seen).toEqual([]);
    } finally {
      first.destroy();
      second?.destroy();
      await shim.close();
      await upstream.close();
    }
  });
});

describe('connection limit options', () => {
  it('default 128 per address and 1,024 in total; a bad value is refused naming the option', () => {
    expect([DEFAULT_LIMITS.connectionsPerAddress, DEFAULT_LIMITS.connections]).toEqual([128, 1024]);
    for (const limits of [{ connectionsPerAddress: 0 }, { connections: 1.5 }]) {
      expect(() => resolveShimOptions({ upstream: 'https://pve1:8006', token: TOKEN, panelDir: null, limits })).toThrow(/limits\.connections/);
    }
  });

  it('an IPv6 client counts by its /64, an IPv4-mapped one by its IPv4 address', () => {
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});
