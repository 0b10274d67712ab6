// SPDX-License-Identifier: AGPL-3.0-or-later
// End to end: `demo` (simulator + shim + built panel) on port 0, the page in Debian's Chromium
// (playwright-core), the fleet table against the audit the core computes for the same cluster.
// Screenshots go to out/panel-e2e*.png.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PveClient } from '../../src/api/client.js';
import { type RunningDemo, startDemo } from '../../src/cli/commands/demo.js';
import type { CliIO } from '../../src/cli/io.js';
import { loadFleetAudit } from '../../panel/data/fleet-audit.js';

const io: CliIO = { stdout: () => {}, stderr: () => {}, isTTY: false, env: {} };
const VMS = 24;

let browser: Browser;

beforeAll(async () => {
  // The shim serves dist/panel: build it as `npm start` does (esbuild, well under a second).
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  mkdirSync('out', { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
});

async function openPanel(demo: RunningDemo, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Console errors include Content-Security-Policy violations of the shim's headers.
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  await page.goto(demo.url);
  await page.locator('dp-fleet-view .count', { hasText: /VMs shown$/ }).waitFor({ timeout: 60_000 });
  return { page, errors };
}

describe('panel e2e on the demo', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ port: '0', vms: String(VMS), seed: '7' }, io);
  });
  afterAll(async () => {
    await demo?.close();
  });

  it('the fleet table lists every simulated VM with the risk level the core computes', async () => {
    const { page, errors } = await openPanel(demo);
    const rows = page.locator('dp-fleet-table .row[data-vmid]');
    expect(await rows.count()).toBe(VMS);
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({ vmid: Number((tr as HTMLElement).dataset['vmid']), level: tr.querySelector('dp-risk-badge')!.getAttribute('level'), text: tr.querySelector('dp-risk-badge')!.shadowRoot!.textContent!.trim() })),
    );
    // The same audit, computed in Node through the same shim.
    const client = new PveClient({ baseUrl: demo.url, auth: { kind: 'same-origin' } });
    const expected = (await loadFleetAudit(client)).report.vms.map((vm) => ({ vmid: vm.vmid, level: vm.risk!.level }));
    expect(shown.map(({ vmid, level }) => ({ vmid, level }))).toEqual(expected);
    expect(new Set(shown.map((s) => s.level)).size).toBeGreaterThan(1);
    for (const s of shown) expect(s.text).toMatch(/^(Critical|Warning|Info|OK|Unknown)$/);
    await page.screenshot({ path: 'out/panel-e2e.png' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a VM opens with its reasons; Apply from the plan preview leaves the change pending in dark orange', async () => {
    const { page } = await openPanel(demo, 'dark');
    const critical = page.locator('dp-fleet-table .row:has(dp-risk-badge[level=critical]), dp-fleet-table .row:has(dp-risk-badge[level=warning])').first();
    const vmid = Number(await critical.getAttribute('data-vmid'));
    await critical.locator('button.open').click();
    await page.locator('dp-vm-detail li.reason').first().waitFor();
    await page.keyboard.press('Escape');
    await page.locator('dp-vm-detail').waitFor({ state: 'detached' });
    await critical.locator('input[type=checkbox]').check();
    await page.locator('dp-fleet-view button.plan').click();
    await page.locator('dp-plan-preview button.apply').waitFor();
    expect(await page.locator('dp-plan-preview pre').textContent()).toContain('pve-dataplane apply');
    await page.locator('dp-plan-preview button.apply').click();
    await page.locator('dp-plan-preview .confirm button.yes').click();
    const result = page.locator('dp-fleet-view dp-alert.apply-result');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.getAttribute('heading')).toMatch(/^Apply finished: /);
    expect(await result.textContent()).toMatch(/roll back job j-/);
    // After the reload the applied VM shows its controller change as pending (dark orange).
    const row = page.locator(`dp-fleet-table .row[data-vmid="${vmid}"]`);
    await row.waitFor();
    const pendingColor = await row.locator('.pending:not(.tag)').first().evaluate((e) => getComputedStyle(e).color);
    expect(pendingColor).toBe('rgb(255, 140, 0)'); // darkorange in the dark theme, as PVE draws pending values
    await page.screenshot({ path: 'out/panel-e2e-dark.png' });
    // A write through the proxy is never forwarded; an apply without the shim's CSRF token (what a
    // cross-site form would send) is refused.
    const refused = await page.evaluate(async () => {
      const proxied = await fetch('/api2/json/nodes/pve1/qemu/100/config', { method: 'POST', body: new URLSearchParams({ scsihw: 'lsi' }) });
      const apply = await fetch('/dp/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"planId":"p-1","reboot":"never"}' });
      return [((await proxied.json()) as { code: string }).code, ((await apply.json()) as { code: string }).code];
    });
    expect(refused).toEqual(['DP_PATH_NOT_ALLOWED', 'DP_CSRF']);
    await page.close();
  });
});

describe('panel e2e on the read-only demo', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ port: '0', vms: '6', seed: '7', readOnly: true }, io);
  });
  afterAll(async () => {
    await demo?.close();
  });

  it('says why writes are off, hides the apply commands, and the shim refuses a write from the page', async () => {
    const { page } = await openPanel(demo);
    expect(await page.locator('dp-app dp-alert.read-only').textContent()).toContain('--read-only');
    await page.locator('dp-fleet-table .row input[type=checkbox]').first().check();
    await page.locator('dp-fleet-view button.plan').click();
    await page.locator('dp-plan-preview .read-only').waitFor();
    expect(await page.locator('dp-plan-preview pre').count()).toBe(0);
    expect(await page.locator('dp-plan-preview button.apply').count()).toBe(0);
    const answer = await page.evaluate(async () => {
      const res = await fetch('/api2/json/nodes/pve1/qemu/100/config', { method: 'POST', body: new URLSearchParams({ scsihw: 'lsi' }) });
      return { status: res.status, body: (await res.json()) as { code: string } };
    });
    expect(answer).toEqual({ status: 403, body: expect.objectContaining({ code: 'DP_AUDIT_READ_ONLY' }) });
    await page.screenshot({ path: 'out/panel-e2e-readonly.png' });
    await page.close();
  });
});
