// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Apply inside the PVE web UI, end to end: the VM's Disk I/O tab on a PVE-like page (npm ExtJS +
 * stand-in panels + the built bundle) in Debian's Chromium, on the user's PVE session against the
 * simulator. The engine runs in the page; its journal lives in the browser's IndexedDB.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { parseJournalText } from '../../../src/node/journal.js';
import { pveUiForFile } from './page-server.js';

// Fleet seed 11 (as test/pve-ui): VMs 100 and 108 on pve1 are stopped, on VirtIO SCSI with
// iothread=1 ignored, and plan to one write each.
const env = pveUiForFile({ vms: 12, nodes: 2, seed: 11, timeScale: 0.001 });

/** A page of `context` logged in as root@pam, on VM `vmid`'s Disk I/O tab. */
async function vmTab(context: BrowserContext, vmid: number): Promise<Page> {
  const page = await context.newPage();
  await page.goto(env.ui.url);
  await page.evaluate(() => (window as unknown as { dpLogin(u: string, p: string): Promise<void> }).dpLogin('root@pam', 'simulator'));
  await page.evaluate((id) => (window as unknown as { dpOpen(c: string, d: object, t: string): void }).dpOpen('PVE.qemu.Config', { node: 'pve1', vmid: id }, 'dp-diskio'), vmid);
  return page;
}

/** Apply from the plan preview: Apply, then Yes (reboot: never). */
async function applyFromPreview(page: Page, vmid: number): Promise<void> {
  const preview = page.locator('dp-plan-preview');
  await preview.locator(`.vm[data-vmid="${vmid}"][data-state="write"]`).waitFor({ timeout: 30_000 });
  await preview.locator('button.apply').click();
  await preview.locator('button.yes').click();
}

const configText = (vmid: number): string => env.ui.sim.state.vms.get(vmid)!.text;

describe('apply inside the PVE web UI', () => {
  it('a page closed mid-write resumes from IndexedDB when the tab is opened again, writes once, and rolls back to the exact previous config', async () => {
    const vmid = 108;
    const before = configText(vmid);
    // Hold the config write inside PVE until the page is gone, then let it land.
    let writes = 0;
    let entered!: () => void;
    const inWrite = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    env.ui.sim.state.onBeforeWrite = async (id) => {
      if (id !== vmid) return;
      writes++;
      if (writes === 1) {
        entered();
        await held;
      }
    };
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const first = await vmTab(context, vmid);
      await applyFromPreview(first, vmid);
      await inWrite;
      await first.close();
      release();
      await env.ui.sim.state.settle();
      expect(configText(vmid)).toMatch(/^scsihw: virtio-scsi-single$/m);

      // Opened again (same browser profile): the unfinished apply is offered for resume.
      const second = await vmTab(context, vmid);
      const run = second.locator('dp-job-progress');
      await run.locator('h2', { hasText: /interrupted \(the page running it was closed or reloaded/ }).waitFor({ timeout: 30_000 });
      await expect(run.locator(`.vm[data-vmid="${vmid}"]`).getAttribute('data-state')).resolves.toBe('writing');
      await run.locator('button.resume').click();
      await run.locator(`.vm[data-vmid="${vmid}"][data-state="verified"]`).waitFor({ timeout: 30_000 });
      await run.locator('h2', { hasText: /: finished$/ }).waitFor();
      // The write that landed while the page was gone is recognised: PVE got exactly one write.
      expect(writes).toBe(1);
      const after = configText(vmid);
      expect(after).toMatch(/^scsi0: .*aio=threads/m);

      // The journal as downloaded: the first run without an end, its write intent without an
      // outcome, the resume's run with its end.
      const downloaded = await downloadJournal(second);
      const { entries, damaged } = parseJournalText(downloaded);
      expect(damaged).toEqual([]);
      const runs = entries.filter((e) => e.t === 'run');
      expect(runs.map((r) => r.t === 'run' && r.kind)).toEqual(['apply', 'apply']);
      expect(entries.filter((e) => e.t === 'end').map((e) => e.run)).toEqual([runs[1]!.run]);
      const intents = entries.filter((e) => e.t === 'write');
      expect(intents).toHaveLength(1);
      expect(entries.filter((e) => e.t === 'write-done')).toHaveLength(0);

      // Rollback from the journal in the browser: the config file is back byte for byte.
      await run.locator('button.rollback').click();
      const list = second.locator('dp-job-list');
      await list.locator('button.start-rollback').click();
      await list.locator('.confirm button.yes').click();
      const rollback = second.locator('dp-job-progress', { has: second.locator('h2', { hasText: /^Rollback job/ }) });
      await rollback.locator(`.vm[data-vmid="${vmid}"][data-state="verified"]`).waitFor({ timeout: 30_000 });
      await env.ui.sim.state.settle();
      expect(configText(vmid)).toBe(before);
      await second.close();
    } finally {
      env.ui.sim.state.onBeforeWrite = undefined;
      await context.close();
    }
  }, 120_000);

  it('the downloaded journal is accepted by `pve-dataplane rollback --journal`, which restores the exact previous config', async () => {
    const vmid = 100;
    const before = configText(vmid);
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await vmTab(context, vmid);
      await applyFromPreview(page, vmid);
      const run = page.locator('dp-job-progress');
      await run.locator(`.vm[data-vmid="${vmid}"][data-state="verified"]`).waitFor({ timeout: 30_000 });
      await run.locator('button.download').waitFor();
      await env.ui.sim.state.settle();
      expect(configText(vmid)).not.toBe(before);
      const dir = mkdtempSync(join(tmpdir(), 'dp-pve-ui-'));
      const journal = join(dir, 'journal.jsonl');
      writeFileSync(journal, await downloadJournal(page));
      writeFileSync(join(dir, 'token'), `${env.ui.sim.token}\n`, { mode: 0o600 });
      const cli = ['--import', 'tsx', 'src/cli/main.ts', 'rollback', '--pve', env.ui.sim.url, '--token-file', join(dir, 'token'), '--journal', journal];
      // Without --yes it names what it would restore, and changes nothing.
      const dry = await promisify(execFile)(process.execPath, cli).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(dry.code).toBe(2);
      expect(dry.stderr).toContain(`rollback would restore 1 VM (${vmid})`);
      const { stdout } = await promisify(execFile)(process.execPath, [...cli, '--yes']);
      expect(stdout).toMatch(/^rolled back: 1$/m);
      await env.ui.sim.state.settle();
      expect(configText(vmid)).toBe(before);
      // The CLI appended its rollback run to the same file.
      const lines = parseJournalText(readFileSync(journal, 'utf8')).entries;
      expect(lines.filter((e) => e.t === 'run').map((e) => e.t === 'run' && e.kind)).toEqual(['apply', 'rollback']);
    } finally {
      await context.close();
    }
  }, 120_000);
});

async function downloadJournal(page: Page): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('dp-job-progress button.download').first().click()]);
  const path = await download.path();
  return readFileSync(path, 'utf8');
}
