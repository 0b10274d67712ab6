// SPDX-License-Identifier: AGPL-3.0-or-later
// Pacing toward PVE per user: no more than `concurrency` forwarded reads at once and `perSecond`
// started per second; the rest wait (they are answered, not refused).
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startShim } from './helpers.js';

describe('per-user limits toward PVE', () => {
  let upstream: { url: string; close(): Promise<void> };
  let inFlight = 0;
  let maxInFlight = 0;
  const starts: number[] = [];
  /**
   * When set, PVE holds each read until `holdUntil` reads are in at once (then 60 ms more, time
   * for one read too many to show), instead of 60 ms from its own arrival: a loaded machine that
   * forwards the third read more than 60 ms after the first would otherwise never have three at
   * once. A shim that never forwards that many is released after 5 s and seen in maxInFlight.
   */
  let holdUntil = 0;
  let held: (() => void)[] = [];
  const releaseHeld = (): void => {
    const now = held;
    held = [];
    setTimeout(() => now.forEach((r) => r()), 60);
  };
  beforeAll(async () => {
    const app = Fastify();
    app.get('/*', async () => {
      starts.push(Date.now());
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (holdUntil > 0) {
        await new Promise<void>((r) => {
          held.push(r);
          if (held.length >= holdUntil) releaseHeld();
          else setTimeout(() => held.includes(r) && releaseHeld(), 5_000).unref();
        });
      } else {
        await new Promise((r) => setTimeout(r, 60));
      }
      inFlight--;
      return { data: [] };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    upstream = { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, close: () => app.close() };
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('12 reads at once reach PVE at most 3 at a time, and all are answered', async () => {
    const shim = await startShim({ upstream: upstream.url, limits: { concurrency: 3, perSecond: 1000 } });
    try {
      maxInFlight = 0;
      holdUntil = 3;
      const answers = await Promise.all(Array.from({ length: 12 }, () => rawRequest(shim.url, 'GET', '/api2/json/nodes')));
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
      expect(maxInFlight).toBe(3);
    } finally {
      holdUntil = 0;
      await shim.close();
    }
  });

  it('with 5 per second, a burst of 4 reads goes at once and 10 more are spread over two seconds', async () => {
    const shim = await startShim({ upstream: upstream.url, limits: { concurrency: 4, perSecond: 5 } });
    try {
      starts.length = 0;
      await Promise.all(Array.from({ length: 14 }, () => rawRequest(shim.url, 'GET', '/api2/json/nodes')));
      expect(starts).toHaveLength(14);
      starts.sort((a, b) => a - b);
      // The bucket holds one set of slots: the first 4 start together; spaced one by one they
      // would take 3 x 200 ms. The margin absorbs a loaded machine.
      expect(starts[3]! - starts[0]!).toBeLessThan(400);
      // ... then 10 gaps of 200 ms = 2 s; unpaced they arrive within a few ms.
      expect(starts[13]! - starts[0]!).toBeGreaterThanOrEqual(1500);
    } finally {
      await shim.close();
    }
  });

  it('a client that waits for each answer gets no fresh burst per read (5 per second, one at a time)', async () => {
    const shim = await startShim({ upstream: upstream.url, limits: { concurrency: 4, perSecond: 5 } });
    try {
      starts.length = 0;
      for (let i = 0; i < 14; i++) await rawRequest(shim.url, 'GET', '/api2/json/nodes');
      // 4 from the bucket, then 10 x 200 ms = 2 s; one after the other unpaced: 14 x 60 ms = 0.84 s.
      expect(starts[13]! - starts[0]!).toBeGreaterThanOrEqual(1600);
    } finally {
      await shim.close();
    }
  });
});

describe('abandoned reads', () => {
  it('slot-exhaustion-by-hang-up: a client that leaves while PVE is slow frees its slot, and its read upstream is dropped', async () => {
    // The first read hangs upstream until dropped; later ones are answered.
    let first: http.IncomingMessage | null = null;
    let droppedUpstream = false;
    const pve = http.createServer((req, res) => {
      if (!first) {
        first = req;
        res.on('close', () => void (droppedUpstream = true));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}');
    });
    await new Promise<void>((r) => pve.listen(0, '127.0.0.1', r));
    const shim = await startShim({ upstream: `http://127.0.0.1:${(pve.address() as AddressInfo).port}`, limits: { concurrency: 1, perSecond: 1000 } });
    try {
      const { port } = new URL(shim.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.write(`GET /api2/json/nodes HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      for (const deadline = Date.now() + 10_000; !first && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      expect(first).not.toBeNull();
      socket.destroy();
      // The one slot is free again: the next read is answered, not queued behind the hung one.
      const next = await rawRequest(shim.url, 'GET', '/api2/json/nodes');
      expect(next.status).toBe(200);
      for (const deadline = Date.now() + 10_000; !droppedUpstream && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      expect(droppedUpstream).toBe(true);
    } finally {
      await shim.close();
      pve.closeAllConnections();
      await new Promise((r) => pve.close(r));
    }
  });
});
