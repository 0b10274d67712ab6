// SPDX-License-Identifier: AGPL-3.0-or-later
// End to end in Chromium: `demo --login` (simulator + shim in PVE login mode + built panel). The
// page shows the sign-in form, the auditor signs in with PVE's password, the fleet loads through
// the shim as that user; the session cookie is invisible to scripts.
import { execFileSync } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDemo, startDemo } from '../../src/cli/commands/demo.js';
import type { CliIO } from '../../src/cli/io.js';

const io: CliIO = { stdout: () => {}, stderr: () => {}, isTTY: false, env: {} };

describe('panel e2e in PVE login mode', () => {
  let browser: Browser;
  let demo: RunningDemo;
  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    browser = await chromium.launch({
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    demo = await startDemo({ port: 0, vms: 6, seed: 7, login: true }, io);
  });
  afterAll(async () => {
    await demo?.close();
    await browser?.close();
  });

  it('sign in as audit@pve, see the fleet; the session cookie is HttpOnly', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.url);
    await page.locator('dp-login input[name=username]').fill('audit');
    await page.locator('dp-login input[name=realm]').fill('pve');
    await page.locator('dp-login input[name=password]').fill('audit');
    await page.locator('dp-login button[type=submit]').click();
    await page.locator('dp-fleet-view .count', { hasText: /VMs shown$/ }).waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['dp_session', true, 'Strict']]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
