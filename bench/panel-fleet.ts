// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel at fleet size, in Debian's Chromium (playwright-core) against the demo's stack (the
 * PVE API simulator + the shim + the built panel) with 15 ms per simulated answer. Measured at
 * 200 and 5,000 VMs in the same run; the 5,000-VM figures are also given as a ratio to the 200-VM
 * ones, which holds on a loaded machine where absolute times do not.
 *
 *   firstRowAfterPendingMs  first grid row painted after the first VM's /pending answer  target <= 1000
 *                            (per-VM reads: its resource timing; the shim's batched read: the
 *                            panel's `pve-dataplane:first-pending-answer` mark, see probeFirstPending)
 *   configsMs / ratio        every config shown, vs VMs x latency / concurrency         target <= 1.3
 *   filterP95Ms              keystroke in the filter -> the filtered grid painted        target <= 50
 *                            (a real key press; from the keydown event's time stamp to the
 *                            task after the first frame whose grid shows the filtered rows:
 *                            the counter and the first row match what the bench computes
 *                            itself from the VM list; 60 keystrokes typing and deleting)
 *   scrollP95Ms              frame time while scrolling the grid                         target <= 20
 *                            (400 px per frame for 120 frames; `scrollBlankFrames` counts the
 *                            frames whose view the rendered rows did not cover)
 *   tableDomNodes            elements in the grid (shadow roots included)                target <= 5000
 *   heapMb                   JS heap after a GC, everything loaded                       target <= 150
 *   planPreviewMs            tick all shown -> the plan preview painted                  target <= 1000
 *
 * The stack runs in a child process (like a real PVE and shim, it does not share the driver's
 * event loop). The load itself is watched over a bare DevTools pipe, not through Playwright, whose
 * network instrumentation costs Chromium and the driver CPU per request that a user's browser
 * never spends (bench/lib/cdp-pipe.ts); Playwright attaches once the load is done. One JSON line per size with every figure (scripts/run-bench.mjs makes the rows of
 * BENCHMARKS.md from them), then a comparison line.
 *
 *   npx tsx bench/panel-fleet.ts [sizes=200,5000] [latencyMs=15]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PipedChromium, launchPipedChromium } from './lib/cdp-pipe.js';

const SERVE = process.argv.includes('--serve');
const ARGS = process.argv.slice(2).filter((a) => a !== '--serve');
const SIZES = (ARGS[0] ?? '200,5000').split(',').map(Number);
const LATENCY = Number(ARGS[1] ?? 15);
/** The panel's API client concurrency (panel/dp-app.ts). */
const CONCURRENCY = 6;
const VIEWPORT = { width: 1400, height: 900 };

/** Child mode: simulator + shim serving dist/panel, like `demo`, with latency. */
async function serve(vms: number): Promise<void> {
  const { startSimulator } = await import('../api-shim/simulator/index.js');
  const { serve: serveShim } = await import('../api-shim/main.js');
  const sim = await startSimulator({ vms, latencyMs: LATENCY, seed: 7, port: 0, authDelayMs: 0 });
  await sim.warmed;
  const shim = await serveShim({
    upstream: sim.url,
    token: sim.token,
    fingerprint: sim.fingerprint!,
    readOnly: false,
    panelDir: resolve('dist/panel'),
    stateDir: mkdtempSync(join(tmpdir(), 'pve-dataplane-bench-')),
    port: 0,
    host: '127.0.0.1',
    warn: () => {},
  });
  process.stdout.write(`${JSON.stringify({ url: `${shim.url}/` })}\n`);
  process.on('SIGTERM', () => void shim.close().then(() => sim.close()).then(() => process.exit(0)));
}

function startChild(vms: number): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', String(vms), String(LATENCY)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((res, rej) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) res({ url: (JSON.parse(buf.slice(0, nl)) as { url: string }).url, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => rej(new Error(`stack exited with ${code} before it was ready`)));
  });
}

/**
 * The first VM's `/pending` answer in the context it runs in (the page, or the worker the panel
 * audits in): the resource timing of the first per-VM `/api2/json/.../pending` answer, or, where
 * the panel reads the configs through the shim's batched read (`/dp/pending`, one stream of many
 * VMs' answers), its `pve-dataplane:first-pending-answer` performance mark, set where the first
 * VM's answer is handed to the audit (panel/data/pending-batch.ts), whichever comes first. Kept as a
 * time on the clock every context of the page shares (`timeOrigin` + the entry's time, ms since
 * the epoch).
 */
function probeFirstPending(): Promise<number> {
  const w = globalThis as unknown as Record<string, number>;
  // No named inner functions: tsx would wrap them in a `__name` helper a worker does not have.
  return new Promise((resolve) => {
    for (const type of ['resource', 'mark']) {
      new PerformanceObserver((list, observer) => {
        for (const e of list.getEntries()) {
          const t =
            e.entryType === 'mark'
              ? e.name === 'pve-dataplane:first-pending-answer' && performance.timeOrigin + e.startTime
              : e.name.includes('/api2/json/') && e.name.includes('/pending') && performance.timeOrigin + (e as PerformanceResourceTiming).responseEnd;
          if (!t) continue;
          observer.disconnect();
          if (!w['firstPending'] || t < w['firstPending']) resolve((w['firstPending'] = t));
        }
      }).observe({ type, buffered: true });
    }
  });
}

/** In-page probes of the load: the first row and every config in (on the same clock as probeFirstPending). */
function probeLoad(): void {
  const w = window as unknown as Record<string, number>;
  const now = () => performance.timeOrigin + performance.now();
  const view = () => document.querySelector('dp-app')?.shadowRoot?.querySelector('dp-fleet-view')?.shadowRoot;
  const tick = () => {
    const v = view();
    if (!w['firstRow'] && v?.querySelector('dp-fleet-table')?.shadowRoot?.querySelector('.row')) w['firstRow'] = now();
    const count = v?.querySelector('.count')?.textContent ?? '';
    if (!w['configsDone'] && /Reading risk evidence|VMs shown$/.test(count)) w['configsDone'] = now();
    if (!w['allDone'] && /VMs shown$/.test(count)) w['allDone'] = now();
    if (!w['allDone']) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;
const round = (x: number): number => Math.round(x * 10) / 10;

async function measure(vms: number): Promise<Record<string, number | boolean | string>> {
  const { chromium } = await import('playwright-core');
  const loadAtStart = Number(loadavg()[0]!.toFixed(2));
  const { url, stop } = await startChild(vms);
  // The load runs in a Chromium driven over a bare DevTools pipe (Page and Runtime only): no
  // driver taps the page's network, as in a user's browser (bench/lib/cdp-pipe.ts says what
  // Playwright's network instrumentation cost). Playwright attaches for the steps after it.
  let chrome: PipedChromium | null = null;
  let browser: import('playwright-core').Browser | null = null;
  try {
    chrome = await launchPipedChromium(process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ]);
    const session = await chrome.attachPage();
    chrome.on('Runtime.exceptionThrown', (p) => {
      const d = p['exceptionDetails'] as { text?: string; exception?: { description?: string } };
      process.stderr.write(`pageerror: ${d.exception?.description ?? d.text ?? ''}\n`);
    });
    chrome.on('Inspector.targetCrashed', () => process.stderr.write('page crashed\n'));
    await chrome.send('Page.enable', {}, session);
    await chrome.send('Runtime.enable', {}, session);
    await chrome.send('Inspector.enable', {}, session);
    // The viewport as Playwright sets one (device metrics), here and again once it attaches.
    await chrome.send('Emulation.setDeviceMetricsOverride', { ...VIEWPORT, deviceScaleFactor: 1, mobile: false }, session);
    // tsx (esbuild keepNames) wraps named functions in `__name(...)`; the page has no such helper.
    await chrome.send('Page.addScriptToEvaluateOnNewDocument', { source: 'globalThis.__name = (f) => f;' }, session);
    // In-page probes: the first /pending answer (resource timing), the first row, every config in.
    await chrome.send('Page.addScriptToEvaluateOnNewDocument', { source: `(${String(probeFirstPending)})(); (${String(probeLoad)})()` }, session);
    // The panel audits in a worker (panel/data/fleet-audit-remote.ts): the first /pending answer is
    // in the worker's timeline. Each worker is held at its start until its probe is in.
    const pipe = chrome;
    const workers: string[] = [];
    /** The first /pending answer a worker saw (its probe answers once it has one). */
    let inWorker: number | undefined;
    chrome.on('Target.attachedToTarget', (p) => {
      const worker = p['sessionId'] as string;
      workers.push(worker);
      if ((p['targetInfo'] as { type: string }).type === 'worker') {
        void pipe
          .send<{ result: { value?: number } }>('Runtime.evaluate', { expression: `(${String(probeFirstPending)})()`, awaitPromise: true, returnByValue: true }, worker)
          .then(({ result }) => (inWorker = Math.min(inWorker ?? Infinity, result.value ?? Infinity)), () => {});
      }
      void pipe.send('Runtime.runIfWaitingForDebugger', {}, worker);
    });
    await chrome.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }, session);
    await chrome.send('Page.navigate', { url }, session);
    const read = async (expression: string, target: string): Promise<Record<string, number | undefined>> =>
      JSON.parse((await pipe.send<{ result: { value?: string } }>('Runtime.evaluate', { expression, returnByValue: true }, target)).result.value ?? '{}') as Record<string, number | undefined>;
    const probed = () => read('JSON.stringify({ firstPending: self.firstPending, firstRow: self.firstRow, configsDone: self.configsDone, allDone: self.allDone })', session);
    const deadline = Date.now() + 600_000;
    let t = await probed();
    while (!t['allDone']) {
      if (Date.now() > deadline) throw new Error('the fleet did not finish loading within 600 s');
      await new Promise((r) => setTimeout(r, 200));
      t = await probed();
    }
    // The earlier of the page's and the workers' (the page has none when the worker audits).
    const firstPending = Math.min(t['firstPending'] ?? Infinity, inWorker ?? Infinity);
    if (firstPending === Infinity) throw new Error('no /pending answer was seen, in the page or in a worker');
    t['firstPending'] = firstPending;
    await chrome.send('Target.setAutoAttach', { autoAttach: false, waitForDebuggerOnStart: false }, session);
    for (const w of workers) await chrome.send('Target.detachFromTarget', { sessionId: w }).catch(() => {});
    await chrome.send('Target.detachFromTarget', { sessionId: session });

    browser = await chromium.connectOverCDP(chrome.cdpUrl);
    const context = browser.contexts()[0]!;
    const page = context.pages()[0] ?? (await context.waitForEvent('page'));
    page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
    page.on('crash', () => process.stderr.write('page crashed\n'));
    await page.setViewportSize(VIEWPORT);
    const viewport = await page.evaluate(() => [innerWidth, innerHeight]);
    if (viewport[0] !== VIEWPORT.width || viewport[1] !== VIEWPORT.height) throw new Error(`viewport ${viewport.join('x')}, not ${VIEWPORT.width}x${VIEWPORT.height}`);

    // Keystrokes: real key presses into the focused search field (typing and deleting words). The
    // expected result is computed here from the VM list (VMID or name contains the text, any
    // case); a keystroke is painted in the first frame whose counter and first grid row show it.
    const fleet = await page.evaluate(() => {
      const view = document.querySelector('dp-app')!.shadowRoot!.querySelector('dp-fleet-view') as unknown as { shownRows: readonly { vm: { vmid: number; name?: string } }[] };
      return view.shownRows.map((r) => ({ vmid: r.vm.vmid, name: r.vm.name ?? '' })).sort((a, b) => a.vmid - b.vmid);
    });
    // The watcher runs in the page before the key is pressed, so no round trip to this process
    // sits between the paint and its time.
    await page.evaluate(() => {
      const w = window as unknown as { __want: { count: number; first: number | null; keyAt: number | null; doneAt: number | null } | null };
      window.addEventListener('keydown', (e) => w.__want && w.__want.keyAt === null && (w.__want.keyAt = e.timeStamp), { capture: true });
      const view = document.querySelector('dp-app')!.shadowRoot!.querySelector('dp-fleet-view')!.shadowRoot!;
      const shows = (count: number, first: number | null) => {
        const counter = view.querySelector('.count')?.textContent ?? '';
        if (!counter.startsWith(`${count.toLocaleString('en-US')} of `)) return false;
        if (first === null) return view.querySelector('.filtered-empty') !== null;
        const row = view.querySelector('dp-fleet-table')?.shadowRoot?.querySelector('.row[data-index="0"]') as HTMLElement | null;
        return row?.dataset['vmid'] === String(first);
      };
      const watch = () => {
        const want = w.__want;
        if (want && want.keyAt !== null && want.doneAt === null && shows(want.count, want.first)) {
          // Painted: the task after the frame whose DOM shows it.
          setTimeout(() => (want.doneAt = performance.now()), 0);
        }
        if (!(window as unknown as { __stopWatch?: boolean }).__stopWatch) requestAnimationFrame(watch);
      };
      requestAnimationFrame(watch);
    });
    await page.locator('dp-fleet-filter input[name=text]').focus();
    const filter: number[] = [];
    let text = '';
    const words = ['101', 'web', '42', 'db1', '7', 'wc', '3', '99'];
    for (let k = 0; filter.length < 60; k++) {
      const word = words[k % words.length]!;
      for (const key of [...word.split(''), ...word.split('').map(() => 'Backspace')]) {
        text = key === 'Backspace' ? text.slice(0, -1) : text + key;
        const want = text.toLowerCase();
        const hits = fleet.filter((v) => `${v.vmid} ${v.name.toLowerCase()}`.includes(want));
        await page.evaluate(([count, first]) => {
          (window as unknown as { __want: unknown }).__want = { count, first, keyAt: null, doneAt: null };
        }, [hits.length, hits[0]?.vmid ?? null] as const);
        await page.keyboard.press(key);
        await page.waitForFunction(() => (window as unknown as { __want: { doneAt: number | null } }).__want.doneAt !== null, null, { polling: 50, timeout: 30_000 });
        const ms = await page.evaluate(() => {
          const want = (window as unknown as { __want: { keyAt: number; doneAt: number } }).__want;
          return want.doneAt - want.keyAt;
        });
        filter.push(ms);
        // A typist's pace: 80-200 ms between keys.
        await page.waitForTimeout(80 + ((filter.length * 37) % 120));
      }
    }
    await page.evaluate(() => ((window as unknown as { __stopWatch: boolean }).__stopWatch = true));

    // Scroll the grid 400 px per frame for 120 frames; frame time = rAF interval. A frame is blank
    // when the rows rendered for it do not cover the view.
    const scroll = await page.evaluate(async () => {
      const v = document.querySelector('dp-app')!.shadowRoot!.querySelector('dp-fleet-view')!.shadowRoot!.querySelector('dp-fleet-table')!.shadowRoot!.querySelector('[role=rowgroup]') as HTMLElement;
      v.scrollTop = 0;
      await new Promise((r) => requestAnimationFrame(r));
      const frames: number[] = [];
      let blank = 0;
      let last = performance.now();
      for (let i = 0; i < 120; i++) {
        v.scrollTop += 400;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        frames.push(now - last);
        last = now;
        const view = v.getBoundingClientRect();
        const rows = [...v.querySelectorAll<HTMLElement>('.row[data-index]')].map((r) => r.getBoundingClientRect());
        const top = Math.min(...rows.map((r) => r.top));
        const bottom = Math.max(...rows.map((r) => r.bottom));
        if (rows.length === 0 || top > view.top + 1 || (bottom < view.bottom - 1 && v.scrollTop + v.clientHeight < v.scrollHeight - 1)) blank++;
      }
      return { frames, blank };
    });
    const frames = scroll.frames;

    const dom = await page.evaluate(() => {
      const t = document.querySelector('dp-app')!.shadowRoot!.querySelector('dp-fleet-view')!.shadowRoot!.querySelector('dp-fleet-table')!;
      let n = 0;
      const walk = (r: ParentNode): void => {
        for (const e of r.querySelectorAll('*')) {
          n++;
          if (e.shadowRoot) walk(e.shadowRoot);
        }
      };
      walk(t.shadowRoot!);
      return n;
    });

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };

    // Tick every VM shown, then Preview: until the preview's first VM is painted.
    const planMs = await page.evaluate(async () => {
      const view = document.querySelector('dp-app')!.shadowRoot!.querySelector('dp-fleet-view')!;
      const all = view.shadowRoot!.querySelector('dp-fleet-table')!.shadowRoot!.querySelector('input[aria-label="Select all shown VMs"]') as HTMLInputElement;
      all.click();
      await (view as unknown as { updateComplete: Promise<unknown> }).updateComplete;
      const t0 = performance.now();
      (view.shadowRoot!.querySelector('button.plan') as HTMLButtonElement).click();
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const p = view.shadowRoot!.querySelector('dp-plan-preview');
        if (p?.shadowRoot?.querySelector('.vm')) break;
      }
      await new Promise((r) => setTimeout(r, 0));
      return performance.now() - t0;
    });

    const configsMs = t['configsDone']! - t['firstPending']!;
    const lowerBoundMs = (vms * LATENCY) / CONCURRENCY;
    return {
      bench: 'panel-fleet',
      vms,
      latencyMs: LATENCY,
      concurrency: CONCURRENCY,
      firstRowAfterPendingMs: round(t['firstRow']! - t['firstPending']!),
      configsMs: Math.round(configsMs),
      lowerBoundMs,
      configsRatio: Number((configsMs / lowerBoundMs).toFixed(3)),
      evidenceMs: Math.round(t['allDone']! - t['configsDone']!),
      filterP95Ms: round(p95(filter)),
      filterMedianMs: round([...filter].sort((a, b) => a - b)[Math.floor(filter.length / 2)]!),
      scrollP95Ms: round(p95(frames)),
      scrollMedianMs: round([...frames].sort((a, b) => a - b)[Math.floor(frames.length / 2)]!),
      scrollBlankFrames: scroll.blank,
      keystrokes: filter.length,
      tableDomNodes: dom,
      heapMb: round(heap.usedSize / 1024 / 1024),
      planPreviewMs: round(planMs),
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
      loadAverageAtStart: loadAtStart,
    };
  } finally {
    await browser?.close();
    chrome?.close();
    stop();
  }
}

const TARGETS = { firstRowAfterPendingMs: 1000, configsRatio: 1.3, filterP95Ms: 50, scrollP95Ms: 20, tableDomNodes: 5000, heapMb: 150, planPreviewMs: 1000 } as const;

if (SERVE) {
  await serve(Number(ARGS[0]));
} else {
  const results: Record<string, number | boolean | string>[] = [];
  for (const vms of SIZES) {
    const r = measure(vms);
    const line = await r;
    const pass = Object.fromEntries(Object.entries(TARGETS).map(([k, max]) => [k, (line[k] as number) <= max]));
    results.push(line);
    process.stdout.write(`${JSON.stringify({ ...line, pass })}\n`);
  }
  if (results.length === 2) {
    const [small, big] = results as [Record<string, number>, Record<string, number>];
    const ratio = Object.fromEntries(
      ['firstRowAfterPendingMs', 'configsMs', 'filterP95Ms', 'scrollP95Ms', 'tableDomNodes', 'heapMb', 'planPreviewMs'].map((k) => [k, Number((big[k]! / small[k]!).toFixed(2))]),
    );
    process.stdout.write(`${JSON.stringify({ bench: 'panel-fleet', compare: `${big['vms']} / ${small['vms']} VMs`, ratio })}\n`);
  }
}
