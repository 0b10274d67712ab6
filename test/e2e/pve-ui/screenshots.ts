// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The README's screenshots of the tab inside a PVE-like UI (npm ExtJS 6.2 crisp theme, the stand-in
 * PVE panels, the built bundle) against the simulator (fleet seed 11, as the tests):
 *
 *     npx tsx test/e2e/pve-ui/screenshots.ts      # writes docs/img/pve-ui-*.png
 */
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startPveUiPage } from './page-server.js';

const OUT = 'docs/img';
const ui = await startPveUiPage({ vms: 12, nodes: 2, seed: 11, timeScale: 0.001 });
const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  mkdirSync(OUT, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(ui.url);
  await page.evaluate(() => (window as unknown as { dpLogin(u: string, p: string): Promise<void> }).dpLogin('root@pam', 'simulator'));
  const open = (tab: string) =>
    page.evaluate((t) => {
      const w = window as unknown as { dpPanel?: { destroy(): void }; dpOpen(c: string, d: object, t: string): { destroy(): void } };
      w.dpPanel?.destroy();
      w.dpPanel = w.dpOpen('PVE.qemu.Config', { node: 'pve1', vmid: 108 }, t);
    }, tab);

  // The Hardware view: the effective facts next to the disk, the hint on the SCSI Controller row.
  await open('hardware');
  await page.locator('.dp-hw-note').first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: `${OUT}/pve-ui-hardware-notes.png`, clip: { x: 0, y: 0, width: 1200, height: 420 } });

  // The VM's Disk I/O tab: disks with configured and effective values, risk with reasons, the plan.
  await open('dp-diskio');
  const preview = page.locator('dp-plan-preview');
  await preview.locator('.vm[data-vmid="108"] dp-pending-value').first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: `${OUT}/pve-ui-vm-disk-io.png`, clip: { x: 0, y: 0, width: 1200, height: 790 } });

  // Apply in the browser, then the journal's run with download and rollback.
  await preview.locator('button.apply').click();
  await preview.locator('button.yes').click();
  await page.locator('dp-job-progress .vm[data-vmid="108"][data-state="verified"]').waitFor({ timeout: 30_000 });
  // The tab reads the VM again after the run: the disk table shows the new effective values.
  await page.locator('dp-vm-detail').waitFor({ timeout: 30_000 });
  await page.screenshot({ path: `${OUT}/pve-ui-vm-applied.png`, clip: { x: 0, y: 0, width: 1200, height: 560 } });
  await context.close();
} finally {
  await browser.close();
  await ui.close();
}
