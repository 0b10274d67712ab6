// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bulk apply inside the PVE web UI, end to end: the Datacenter's Disk I/O tab on a PVE-like page
 * (npm ExtJS + stand-in panels + the built bundle) in Debian's Chromium, on the user's PVE session
 * against the simulator. The fleet view's plan, progress and Past Runs run on the browser's jobs
 * (panel/data/browser-jobs.ts): the engine in the page, plans and journals in IndexedDB.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { parseJournalText } from '../../../src/node/journal.js';
import { pveUiForFile } from './page-server.js';

const env = pveUiForFile({ vms: 12, nodes: 2, seed: 11, timeScale: 0.001 });

const configText = (vmid: number): string => env.ui.sim.state.vms.get(vmid)!.text;

/** A page logged in as root@pam on the Datacenter's Disk I/O tab, the fleet read. */
async function datacenterTab(page: Page): Promise<void> {
  await page.goto(env.ui.url);
  await page.evaluate(() => (window as unknown as { dpLogin(u: string, p: string): Promise<void> }).dpLogin('root@pam', 'simulator'));
  await page.evaluate(() => (window as unknown as { dpOpen(c: string, d: object, t: string): void }).dpOpen('PVE.dc.Config', {}, 'dp-diskio'));
  await page.locator('dp-fleet-view .count', { hasText: /VMs shown$/ }).waitFor({ timeout: 60_000 });
}

async function downloadJournal(page: Page, button: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(button).first().click()]);
  return readFileSync(await download.path(), 'utf8');
}

describe('bulk apply inside the PVE web UI', () => {
  it("a node's bulk apply from the Datacenter tab: Cancel finishes the VMs in flight and starts no other; the journal is the CLI's; Roll Back restores every config byte for byte", async () => {
    const pve1 = [...env.ui.sim.state.vms.values()].filter((vm) => vm.node === 'pve1').map((vm) => vm.vmid);
    const before = new Map(pve1.map((id) => [id, configText(id)]));
    // Hold the config writes inside PVE until Cancel is pressed: the two VMs the browser works on
    // at once are in flight then.
    let entered!: () => void;
    const inWrite = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let writes = 0;
    env.ui.sim.state.onBeforeWrite = async () => {
      if (++writes === 2) entered();
      await held;
    };
    const context = await env.browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    try {
      const page = await context.newPage();
      await datacenterTab(page);
      await page.locator('dp-fleet-filter select[name=node]').selectOption('pve1');
      await page.locator('dp-fleet-table input[aria-label="Select all shown VMs"]').check();
      await page.locator('dp-fleet-view button.plan').click();
      const preview = page.locator('dp-plan-preview');
      await preview.locator('.vm').first().waitFor({ timeout: 30_000 });
      const planned = (await preview.locator('.vm[data-state="write"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-vmid'))))).sort((a, b) => a - b);
      expect(planned.length).toBeGreaterThanOrEqual(3);
      await preview.locator('button.apply').click();
      await preview.locator('.confirm button.yes').click();

      const progress = page.locator('dp-job-progress');
      await inWrite;
      await progress.locator('button.cancel').click();
      await progress.locator('h2', { hasText: /cancelling/i }).waitFor();
      release();
      await progress.locator('.journal').waitFor({ timeout: 60_000 });
      expect(await progress.locator('h2').textContent()).toMatch(/cancelled/);
      const states = await progress.locator('.vm').evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-vmid')), e.getAttribute('data-state'), e.textContent] as const));
      // Stopped VMs take the change at once (verified), running ones wait for a cold start (written).
      const written = states.filter(([, s]) => s === 'written' || s === 'verified').map(([id]) => id);
      const notStarted = states.filter(([, , t]) => /not started: job cancelled by root@pam/.test(t ?? '')).map(([id]) => id);
      // The two VMs in flight when Cancel was pressed finished; no other started.
      expect(written).toHaveLength(2);
      expect(writes).toBe(2);
      expect(notStarted.sort((a, b) => a - b)).toEqual(planned.filter((id) => !written.includes(id)));
      await env.ui.sim.state.settle();
      for (const id of notStarted) expect(configText(id)).toBe(before.get(id));
      for (const id of written) expect(configText(id)).not.toBe(before.get(id));

      // The journal as downloaded is the CLI's: `pve-dataplane rollback --journal` names what it would restore.
      const text = await downloadJournal(page, 'dp-job-progress button.download');
      const { entries, damaged } = parseJournalText(text);
      expect(damaged).toEqual([]);
      expect(entries.filter((e) => e.t === 'run').map((e) => e.t === 'run' && e.kind)).toEqual(['apply']);
      const dir = mkdtempSync(join(tmpdir(), 'dp-pve-bulk-'));
      writeFileSync(join(dir, 'journal.jsonl'), text);
      writeFileSync(join(dir, 'token'), `${env.ui.sim.token}\n`, { mode: 0o600 });
      const dry = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'rollback', '--pve', env.ui.sim.url, '--token-file', join(dir, 'token'), '--journal', join(dir, 'journal.jsonl')]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(dry.code).toBe(2);
      expect(dry.stderr).toContain(`rollback would restore ${written.length} VM`);

      // Roll Back from the summary: a rollback job of the written VMs, then every config of the node is as before.
      await progress.locator('button.rollback').click();
      const list = page.locator('dp-job-list');
      await list.locator('input[name=vm]').first().waitFor();
      expect(await list.locator('input[name=vm]:checked').count()).toBe(written.length);
      await list.locator('button.start-rollback').click();
      await list.locator('.confirm button.yes').click();
      const rollback = page.locator('dp-job-progress');
      await rollback.locator('h2', { hasText: /^Rollback job/ }).waitFor();
      await rollback.locator('.journal').waitFor({ timeout: 60_000 });
      expect(await rollback.locator('.vm[data-state=verified]').count()).toBe(written.length);
      await env.ui.sim.state.settle();
      for (const id of pve1) expect(configText(id)).toBe(before.get(id));

      // Past Runs lists both, from IndexedDB.
      await page.locator('dp-fleet-view button.runs').click();
      await page.locator('dp-job-list tr[data-job]').nth(1).waitFor();
      expect(await page.locator('dp-job-list tbody').textContent()).toMatch(/Rollback of j-/);
    } finally {
      env.ui.sim.state.onBeforeWrite = undefined;
      await context.close();
    }
  }, 180_000);
});
