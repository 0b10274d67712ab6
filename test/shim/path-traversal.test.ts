// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: a path that could be decoded upstream into another path never leaves the
// shim (the %2E%2E class of GHSA-2q7r-29rg-6m5h in @fastify/reply-from).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Seen, rawRequest, recordingUpstream, startShim } from './helpers.js';

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

describe('path traversal is refused with 400 DP_BAD_PATH before reaching PVE', () => {
  const attacks = [
    '/api2/json/nodes/%2E%2E/access/users',
    '/api2/json/nodes/%2e%2e/%2e%2e/access/users',
    '/api2/json/nodes/../access/users',
    '/api2/json/nodes/pve1/qemu/100/%2E%2E%2F%2E%2E%2Faccess%2Fusers',
    '/api2/json/nodes/pve1%2Fexecute',
    '/api2/json/nodes/pve1%5Cexecute',
    '/api2/json/nodes/./pve1/status',
    '/api2/json//nodes',
    '/api2/json/nodes/%00',
    '/api2/json/nodes/%E0%A4%A',
  ];
  for (const path of attacks) {
    it(path, async () => {
      const before = upstream.seen.length;
      const res = await rawRequest(shim.url, 'GET', path);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ data: null, code: 'DP_BAD_PATH' });
      expect(upstream.seen.length).toBe(before);
    });
  }

  it('a plain allowed path still goes through', async () => {
    const res = await rawRequest(shim.url, 'GET', '/api2/json/nodes/pve1/qemu/100/pending');
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)?.url).toBe('/api2/json/nodes/pve1/qemu/100/pending');
  });
});
