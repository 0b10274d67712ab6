// SPDX-License-Identifier: AGPL-3.0-or-later
// End to end: `demo` (simulator + shim + built panel) on port 0, the page in Debian's Chromium
// (playwright-core): triage of a 5,000-VM fleet, a node's bulk apply in reboot waves with a
// cancel, its rollback from the panel, and read-only mode. Screenshots go to out/panel-e2e-*.png
// (test artifacts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PveClient } from '../../src/api/client.js';
import { type RunningDemo, startDemo } from '../../src/cli/commands/demo.js';
import type { CliIO } from '../../src/cli/io.js';
import { loadFleetAudit } from '../../panel/data/fleet-audit.js';

const io: CliIO = { stdout: () => {}, stderr: () => {}, isTTY: false, env: {} };

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

async function openPanel(
  demo: RunningDemo,
  opts: { query?: string; colorScheme?: 'light' | 'dark'; timeout?: number } = {},
): Promise<{ page: Page; errors: string[]; workers: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: opts.colorScheme ?? 'light', acceptDownloads: true });
  const errors: string[] = [];
  const workers: string[] = [];
  /** Every request of the page and its workers (path and query). */
  const requests: string[] = [];
  page.on('worker', (w) => workers.push(new URL(w.url()).pathname));
  page.on('request', (r) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  page.on('pageerror', (e) => errors.push(e.message));
  // Console errors include Content-Security-Policy violations of the shim's headers.
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  await page.goto(`${demo.url}${opts.query ?? ''}`);
  await page.locator('dp-fleet-view .count', { hasText: /VMs shown$/ }).waitFor({ timeout: opts.timeout ?? 60_000 });
  return { page, errors, workers, requests };
}

/** VMIDs of the rows in the DOM, in grid order. */
const shownIds = (page: Page) =>
  page.locator('dp-fleet-table .row[data-vmid]').evaluateAll((rows) =>
    rows.sort((a, b) => Number((a as HTMLElement).dataset['index']) - Number((b as HTMLElement).dataset['index'])).map((r) => Number((r as HTMLElement).dataset['vmid'])),
  );

describe('triage a 5,000-VM demo', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ port: 0, vms: 5000, seed: 7 }, io);
  }, 120_000);
  afterAll(async () => {
    await demo?.close();
  });

  it('rows arrive with a counter; sort, filter, export and a detail opened with the keyboard', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    // The risk evidence of 5,000 VMs is reassessed in slices that yield to the page: actions need
    // no long waits (a generous default for a loaded 2-core machine, not minutes).
    page.setDefaultTimeout(30_000);
    await page.goto(demo.url);
    // Rows show while configs are still being read, with "N of 5,000 read".
    await page.locator('dp-fleet-view .count', { hasText: /of 5,000 read$/ }).waitFor({ timeout: 120_000 });
    await page.locator('dp-fleet-table .row').first().waitFor();
    // Triage starts while configs and risk evidence still come in (each VM's risk is assessed as
    // soon as its evidence is in, not in a phase after the last config): a click is handled
    // within seconds, sort by name, and the header says so.
    const clicked = Date.now();
    await page.locator('dp-fleet-table button[data-sort=name]').click({ timeout: 5_000 });
    await page.locator('dp-fleet-table [role=columnheader][aria-sort=ascending]:has(button[data-sort=name])').waitFor({ timeout: 5_000 });
    const answeredMs = Date.now() - clicked;
    expect(answeredMs).toBeLessThan(5_000);
    await page.screenshot({ path: 'out/panel-e2e-5000-evidence.png' });

    await page.locator('dp-fleet-view .count', { hasText: /^5,000 of 5,000 VMs shown$/ }).waitFor({ timeout: 300_000 });
    // Virtualized: a screenful of rows in the DOM, not 5,000.
    expect(await page.locator('dp-fleet-table .row').count()).toBeLessThan(150);

    // Sort by risk: worst first, announced with aria-sort.
    await page.locator('dp-fleet-table button[data-sort=risk]').click();
    expect(await page.locator('dp-fleet-table [role=columnheader]:has(button[data-sort=risk])').getAttribute('aria-sort')).toBe('ascending');
    const first = page.locator('dp-fleet-table .row[data-index="0"] .risk-badge');
    expect(await first.getAttribute('data-level')).toBe('critical');
    expect(page.url()).toContain('dp-sort=risk');

    // Filter: node and quick filter; the URL keeps both.
    await page.locator('dp-fleet-filter select[name=node]').selectOption('pve2');
    await page.locator('dp-fleet-filter button[data-quick=iothread-ignored]').click();
    await page.locator('dp-fleet-view .count', { hasText: /^\d[\d,]* of 5,000 VMs shown/ }).waitFor();
    const counter = (await page.locator('dp-fleet-view .count').textContent())!;
    const shown = Number(counter.split(' of ')[0]!.replace(/,/g, ''));
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(5000);
    expect(page.url()).toMatch(/dp-node=pve2/);
    expect(page.url()).toMatch(/dp-only=iothread-ignored/);
    expect(await page.locator('dp-fleet-table .row .mark', { hasText: 'iothread configured on, runs off' }).count()).toBeGreaterThan(0);

    // Export: exactly the VMs shown, in the CLI's CSV columns.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('dp-fleet-view button.export-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^vmid,name,node,status,source,scsihw,machine,disk,/);
    const csvIds = new Set(csv.slice(1).map((l) => Number(l.split(',')[0])));
    expect(csvIds.size).toBe(shown);
    expect(csv.slice(1).every((l) => l.split(',')[2] === 'pve2')).toBe(true);

    // Keyboard: focus the first row's VMID, Enter opens the window, Escape closes it, focus returns.
    const ids = await shownIds(page);
    await page.locator(`dp-fleet-table .row[data-vmid="${ids[0]}"] button.open`).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    // The window sits in the browser's top layer; the element itself has no box.
    await page.locator('dp-vm-detail dialog[open]').waitFor();
    expect(page.url()).toContain(`dp-vm=${ids[1]}`);
    expect(await page.locator('dp-vm-detail dp-dialog').getAttribute('heading')).toMatch(new RegExp(`^VM ${ids[1]}\\b`));
    expect(await page.locator('dp-vm-detail table').textContent()).toMatch(/Hard Disk \((scsi|virtio|sata|ide)\d+\)/);
    await page.screenshot({ path: 'out/panel-e2e-5000-detail.png' });
    await page.keyboard.press('Escape');
    await page.locator('dp-vm-detail').waitFor({ state: 'detached' });
    const focused = await page.evaluate(() => {
      let el: Element | null = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el?.closest('.row')?.getAttribute('data-vmid') ?? null;
    });
    expect(Number(focused)).toBe(ids[1]);
    await page.screenshot({ path: 'out/panel-e2e-5000.png' });
    await page.close();
  }, 600_000);
});

describe('bulk apply and rollback on the demo', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ port: 0, vms: 60, seed: 7 }, io);
  });
  afterAll(async () => {
    await demo?.close();
  });

  it('the fleet table lists every simulated VM with the risk level the core computes', async () => {
    const { page, errors, workers, requests } = await openPanel(demo);
    expect(await page.locator('dp-fleet-view .count').textContent()).toBe('60 of 60 VMs shown');
    // Read in the audit worker the shim serves beside the bundle (its CSP allows it): the page
    // itself sent no /pending request.
    expect(workers).toEqual(['/fleet-audit-worker.js']);
    expect(await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => /\/api2\/json\/.*\/pending$/.test(e.name)).length)).toBe(0);
    // The configs came through the shim's batched read (one request per node), not one request per VM.
    const batches = requests.filter((r) => r.startsWith('/dp/pending?node='));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBe(new Set([...demo.sim.state.vms.values()].map((vm) => vm.node)).size);
    expect(requests.filter((r) => /^\/api2\/json\/nodes\/[^/]+\/qemu\/\d+\/pending$/.test(r))).toEqual([]);
    // The grid is windowed: scroll it from top to bottom, reading each row as it comes into view.
    const levels: Record<number, string> = {};
    const body = page.locator('dp-fleet-table [role=rowgroup]');
    for (let atEnd = false; !atEnd; ) {
      Object.assign(
        levels,
        await page.locator('dp-fleet-table .row[data-vmid]').evaluateAll((rows) =>
          Object.fromEntries(rows.map((r) => [Number((r as HTMLElement).dataset['vmid']), (r.querySelector('.risk-badge') as HTMLElement).dataset['level']!])),
        ),
      );
      atEnd = await body.evaluate(async (el) => {
        const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 1;
        el.scrollTop += el.clientHeight / 2;
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        return end;
      });
    }
    // The same audit, computed in Node through the same shim: every VM, in order, at its level.
    const client = new PveClient({ baseUrl: demo.url, auth: { kind: 'same-origin' } });
    const expected = (await loadFleetAudit(client)).report.vms;
    expect(Object.keys(levels).map(Number)).toEqual(expected.map((vm) => vm.vmid));
    for (const vm of expected) expect(levels[vm.vmid]).toBe(vm.risk!.level);
    expect(new Set(Object.values(levels)).size).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a node in reboot waves: the plan previewed is applied, each VM live, Cancel, then Rollback from the panel', async () => {
    const { page, errors } = await openPanel(demo, { query: '?dp-node=pve1', colorScheme: 'dark' });
    const ids = await shownIds(page);
    expect(ids.length).toBeGreaterThan(1);
    await page.locator('dp-fleet-table input[aria-label="Select all shown VMs"]').check();
    await page.locator('dp-fleet-view button.plan').click();
    await page.locator('dp-plan-preview .vm').first().waitFor();
    await page.locator('dp-plan-preview dp-reboot-choice input[value=now]').check();
    const apply = page.locator('dp-plan-preview button.apply');
    const n = Number((await apply.textContent())!.match(/Apply to (\d+) VM/)![1]);
    expect(n).toBeGreaterThan(1);
    await apply.click();
    const confirm = page.locator('dp-plan-preview .confirm');
    expect(await confirm.textContent()).toContain(`move ${n} VMs on pve1 (${n}) to VirtIO SCSI single with IO thread and reboot them?`);
    await page.screenshot({ path: 'out/panel-e2e-confirm.png' });
    await confirm.locator('button.yes').click();
    const progress = page.locator('dp-job-progress');
    await progress.waitFor({ timeout: 60_000 });
    // The wave: one reboot at a time on pve1; Cancel at once: the VM in flight finishes, no other starts.
    await progress.locator('.vm').first().waitFor();
    await page.screenshot({ path: 'out/panel-e2e-wave.png' });
    await progress.locator('button.cancel').click();
    await progress.locator('.journal').waitFor({ timeout: 180_000 });
    expect(await progress.locator('h2').textContent()).toMatch(/cancelled/);
    expect(await progress.locator('.vm[data-state=skipped]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: 'out/panel-e2e-cancelled.png' });

    // Undo: the run is listed with its outcome; roll back all it wrote, no reboot.
    await progress.locator('button.rollback').click();
    const list = page.locator('dp-job-list');
    await list.locator('input[name=vm]').first().waitFor();
    const chosen = await list.locator('input[name=vm]:checked').count();
    expect(chosen).toBeGreaterThan(0);
    await list.locator('button.start-rollback').click();
    await list.locator('.confirm button.yes').click();
    await list.waitFor({ state: 'detached' });
    const rollback = page.locator('dp-job-progress');
    await rollback.locator('h2', { hasText: /^Rollback job/ }).waitFor();
    await rollback.locator('.journal').waitFor({ timeout: 180_000 });
    expect(await rollback.locator('.vm[data-state=failed]').count()).toBe(0);
    await page.screenshot({ path: 'out/panel-e2e-rollback.png' });
    // Past Runs lists both runs.
    await page.locator('dp-fleet-view button.runs').click();
    await page.locator('dp-job-list tr[data-job]').nth(1).waitFor();
    expect(await page.locator('dp-job-list tbody').textContent()).toMatch(/Rollback of j-/);
    expect(errors).toEqual([]);
    await page.close();
  }, 420_000);
});

describe('read-only demo', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ port: 0, vms: 6, seed: 7, readOnly: true }, io);
  });
  afterAll(async () => {
    await demo?.close();
  });

  it('says why once; every write control is absent; the shim refuses a write from the page', async () => {
    const { page } = await openPanel(demo);
    expect(await page.locator('dp-app dp-alert.read-only').textContent()).toContain('--read-only');
    expect(await page.locator('dp-fleet-view button.runs').count()).toBe(0);
    await page.locator('dp-fleet-table .row input[type=checkbox]').first().check();
    await page.locator('dp-fleet-view button.plan').click();
    await page.locator('dp-plan-preview .vm').first().waitFor();
    expect(await page.locator('dp-plan-preview button.apply').count()).toBe(0);
    expect(await page.locator('dp-plan-preview dp-reboot-choice').count()).toBe(0);
    expect(await page.locator('dp-plan-preview pre').count()).toBe(0);
    const answer = await page.evaluate(async () => {
      const res = await fetch('/api2/json/nodes/pve1/qemu/100/config', { method: 'POST', body: new URLSearchParams({ scsihw: 'lsi' }) });
      return { status: res.status };
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    await page.screenshot({ path: 'out/panel-e2e-readonly.png' });
    await page.close();
  });
});
