// SPDX-License-Identifier: AGPL-3.0-or-later
// Options are checked before anything listens, each with a message naming the option.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../api-shim/app.js';
import { ShimOptionsError, resolveShimOptions } from '../../api-shim/options.js';
import { TOKEN } from './helpers.js';

const FP = 'AB:'.repeat(31) + 'AB';

describe('resolveShimOptions', () => {
  const cases: [string, Parameters<typeof resolveShimOptions>[0], RegExp][] = [
    ['missing upstream', { upstream: '', token: TOKEN, panelDir: null }, /upstream is required/],
    ['not a URL', { upstream: 'pve1 8006', token: TOKEN, panelDir: null }, /not a URL/],
    ['ftp', { upstream: 'ftp://pve1', token: TOKEN, panelDir: null }, /must use https/],
    ['credentials in URL', { upstream: 'https://root:pw@pve1:8006', token: TOKEN, panelDir: null }, /must not contain credentials/],
    ['missing token', { upstream: 'https://pve1:8006', token: '', panelDir: null }, /token is required/],
    ['bad token', { upstream: 'https://pve1:8006', token: 'root@pam:secret', panelDir: null }, /token: invalid API token/],
    ['bad fingerprint', { upstream: 'https://pve1:8006', token: TOKEN, fingerprint: 'AB:CD', panelDir: null }, /fingerprint: invalid fingerprint/],
    ['pin + insecure', { upstream: 'https://pve1:8006', token: TOKEN, fingerprint: FP, insecure: true, panelDir: null }, /exclude each other/],
    ['pin on http', { upstream: 'http://127.0.0.1:8006', token: TOKEN, fingerprint: FP, panelDir: null }, /need an https upstream/],
    ['missing panel', { upstream: 'https://pve1:8006', token: TOKEN, panelDir: '/nonexistent/panel' }, /npm run build/],
    ['bad timeout', { upstream: 'https://pve1:8006', token: TOKEN, panelDir: null, upstreamTimeoutMs: 0 }, /upstreamTimeoutMs/],
  ];
  for (const [name, opts, message] of cases) {
    it(`${name}: ${String(message)}`, () => {
      expect(() => resolveShimOptions(opts)).toThrow(ShimOptionsError);
      expect(() => resolveShimOptions(opts)).toThrow(message);
    });
  }

  it('a bad token is reported without echoing its secret', () => {
    expect(() => resolveShimOptions({ upstream: 'https://pve1:8006', token: 'root@pam!x', panelDir: null })).toThrow(/=SECRET/);
    try {
      resolveShimOptions({ upstream: 'https://pve1:8006', token: 'nobang=topsecretvalue', panelDir: null });
    } catch (e) {
      expect((e as Error).message).not.toContain('topsecretvalue');
    }
  });

  it('keeps a path prefix and drops a trailing /api2/json', () => {
    expect(resolveShimOptions({ upstream: 'https://pve1:8006/api2/json/', token: TOKEN, panelDir: null }).upstream.href).toBe('https://pve1:8006/');
  });

  it('buildApp refuses before registering anything', async () => {
    await expect(buildApp({ upstream: 'https://pve1:8006', token: 'x', panelDir: null })).rejects.toThrow(ShimOptionsError);
  });

  it('serves the panel directory at /', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-panel-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>dp</title><dp-app></dp-app>');
    const app = await buildApp({ upstream: 'https://pve1:8006', token: TOKEN, panelDir: dir });
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<dp-app>');
    await app.close();
  });
});
