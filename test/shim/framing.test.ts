// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: the panel can write (Apply), so no other site may frame it to trick a
// click; every answer (panel, API, refusals) carries frame-ancestors 'none' and X-Frame-Options.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, recordingUpstream, startShim, type Seen } from './helpers.js';

describe('framing and content policy', () => {
  let upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  let shim: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const panelDir = mkdtempSync(join(tmpdir(), 'dp-panel-'));
    writeFileSync(join(panelDir, 'index.html'), '<!doctype html><dp-app></dp-app>');
    upstream = await recordingUpstream();
    shim = await startShim({ upstream: upstream.url, panelDir });
  });
  afterAll(async () => {
    await shim.close();
    await upstream.close();
  });

  for (const path of ['/', '/index.html', '/dp/config', '/api2/json/nodes', '/api2/json/access/users', '/api2/json/nodes/%2E%2E']) {
    it(path, async () => {
      const res = await rawRequest(shim.url, 'GET', path);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });
  }
});
