// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: a path that could be decoded upstream into another path never leaves the
// shim (the %2E%2E class of GHSA-2q7r-29rg-6m5h in @fastify/reply-from).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Seen, parseAnswers, rawRequest, rawSocket, recordingUpstream, shimOverRecordingUpstream, startShim } from './helpers.js';

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

// The static panel: no spelling of a path leaves its directory (a file next to it stays unread).
describe('static-path-traversal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dp-static-'));
  const panelDir = join(dir, 'panel');
  mkdirSync(panelDir);
  writeFileSync(join(panelDir, 'index.html'), '<!doctype html><title>panel</title>');
  writeFileSync(join(dir, 'secret.txt'), 'TOPSECRET-next-to-the-panel');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const s = shimOverRecordingUpstream({ panelDir });

  for (const target of ['/../secret.txt', '/%2e%2e/secret.txt', '/.%2e/secret.txt', '/..%2fsecret.txt', '/..\\secret.txt', '/%c0%ae%c0%ae/secret.txt', '//secret.txt', `/${'%2e%2e/'.repeat(8)}etc/passwd`, '/index.html%00.txt']) {
    it(`GET ${target} reads nothing outside the panel directory`, async () => {
      const { text } = await rawSocket(s.shim.url, `GET ${target} HTTP/1.1\r\nHost: ${s.host}\r\n\r\n`, 200);
      const [answer] = parseAnswers(text);
      expect([400, 403, 404]).toContain(answer!.status);
      expect(text).not.toMatch(/TOPSECRET|root:x:0/);
      expect(answer!.headers['x-frame-options']).toBe('DENY');
      expect(s.upstream.seen).toEqual([]);
    });
  }
});
