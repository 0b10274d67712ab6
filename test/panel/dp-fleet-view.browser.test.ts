// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import { PveApiError } from '../../src/api/errors.js';
import type { DpFleetView } from '../../panel/views/dp-fleet-view.js';
import type { DpFilterChangeEvent } from '../../panel/events.js';
import '../../panel/views/dp-fleet-view.js';
import { fleetAudit, manualLoader } from './fleet-fixture.js';
import type { FleetAudit, FleetLoadEvents } from '../../panel/data/fleet-audit.js';
import { EMPTY_QUERY, type FleetQuery } from '../../panel/data/fleet-query.js';
import { memoryStore } from '../../panel/data/url-state.js';
import { RISK_LABEL } from '../../panel/strings.js';
import { THEMES } from './themed.js';
import { deepText, detail, filterEl, preview, root, row, rowsShown, table, vmids } from './view-helpers.js';
import { waitUntil } from './wait-until.js';

type Loader = (s: AbortSignal, ev: FleetLoadEvents) => Promise<FleetAudit>;

async function viewWith(loader: Loader, opts: { readOnly?: boolean; query?: Partial<FleetQuery>; theme?: string } = {}) {
  const mode = { readOnly: opts.readOnly ?? false, readOnlyReason: opts.readOnly ? 'test' : '', upstream: 'pve1:8006', canApply: false, csrfToken: 't' };
  const store = memoryStore({ ...EMPTY_QUERY, ...opts.query });
  const wrapper = await fixture<HTMLElement>(
    html`<dp-test-theme theme=${opts.theme ?? 'light'}><dp-fleet-view .loader=${loader} .mode=${mode} .queryStore=${store}></dp-fleet-view></dp-test-theme>`,
  );
  const el = wrapper.querySelector('dp-fleet-view')!;
  return { el, store };
}

const loaded = () => Promise.resolve(fleetAudit());

/** A view whose load the test drives: the streaming events the view handed its loader, and the loader's end. */
async function streamedView() {
  const ctl = manualLoader<FleetAudit>();
  let events: FleetLoadEvents | undefined;
  const { el } = await viewWith((signal, ev) => {
    events = ev;
    return ctl.loader(signal);
  });
  await waitUntil(() => events, 'the view starts its load');
  return { el, events: events!, ctl };
}

async function setText(el: DpFleetView, text: string) {
  const input = filterEl(el).shadowRoot!.querySelector('input[name=text]') as HTMLInputElement;
  input.value = text;
  input.dispatchEvent(new Event('input'));
}

describe('dp-fleet-view', () => {
  it('a keystroke filters at once; keystrokes typed before the next frame filter once there, with the last text', async () => {
    const { el } = await viewWith(loaded);
    await rowsShown(el, 6);
    const texts: string[] = [];
    filterEl(el).addEventListener('dp-filter-change', (e) => texts.push((e as DpFilterChangeEvent).filter.text));
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    await frame();
    await setText(el, 'w');
    expect(texts).to.deep.equal(['w']);
    await setText(el, 'we');
    await setText(el, 'web');
    expect(texts).to.deep.equal(['w']);
    await frame();
    expect(texts).to.deep.equal(['w', 'web']);
    await el.updateComplete;
    expect(vmids(el)).to.deep.equal([102]);
    // A keystroke after a frame has drawn waits for nothing.
    await frame();
    await setText(el, '');
    expect(texts).to.deep.equal(['w', 'web', '']);
  });

  it('Reload aborts the load in flight (the Task passes its AbortSignal)', async () => {
    const signals: AbortSignal[] = [];
    const { el } = await viewWith((signal) => {
      signals.push(signal);
      return new Promise<FleetAudit>(() => {});
    });
    el.reload();
    await el.updateComplete;
    expect(signals.length).to.equal(2);
    expect(signals[0]!.aborted).to.equal(true);
    expect(signals[1]!.aborted).to.equal(false);
  });

  it('a view taken off the page stops its load (PVE tab left mid-load); put back, it loads again', async () => {
    const signals: AbortSignal[] = [];
    const { el } = await viewWith((signal) => {
      signals.push(signal);
      return new Promise<FleetAudit>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const parent = el.parentElement!;
    el.remove();
    expect(signals.length).to.equal(1);
    expect(signals[0]!.aborted).to.equal(true);
    parent.append(el);
    await waitUntil(() => signals.length === 2, 'the load starts again');
    expect(signals[1]!.aborted).to.equal(false);
  });

  it('a finished view taken off the page and put back does not load again', async () => {
    let calls = 0;
    const { el } = await viewWith(() => {
      calls++;
      return loaded();
    });
    await rowsShown(el, 6);
    const parent = el.parentElement!;
    el.remove();
    parent.append(el);
    await el.updateComplete;
    expect(calls).to.equal(1);
    await rowsShown(el, 6);
  });

  for (const theme of THEMES) {
    it(`the loaded table is accessible (axe, ${theme})`, async () => {
      const { el } = await viewWith(loaded, { theme });
      await rowsShown(el, 6);
      await expect(el).to.be.accessible();
    });

    it(`the error state is accessible (axe, ${theme})`, async () => {
      const { el } = await viewWith(() => Promise.reject(new Error('Connection error - Timeout.')), { theme });
      await waitUntil(() => root(el).querySelector('dp-alert'));
      await expect(el).to.be.accessible();
    });
  }

  it('shows a labelled progressbar before the first config, then rows as configs arrive with a counter', async () => {
    const audit = fleetAudit();
    const { el, events, ctl } = await streamedView();
    const spinner = root(el).querySelector('dp-spinner')!;
    expect(spinner.shadowRoot!.querySelector('[role=progressbar]')!.getAttribute('aria-label')).to.match(/Please wait|Loading/);
    // Two of six configs are in: their rows show, with the counter.
    for (const i of [0, 1]) {
      events.onProgress!(i + 1, 6);
      events.onVm!(audit.report.vms[i]!, audit.inputs[i]!);
    }
    await rowsShown(el, 2);
    expect(root(el).querySelector('.count')!.textContent).to.equal('2 of 6 read');
    expect(table(el)!.shadowRoot!.textContent).to.contain('config only; evidence pending');
    ctl.resolve(audit);
    await rowsShown(el, 6);
    expect(root(el).querySelector('.count')!.textContent).to.equal('6 of 6 VMs shown');
    expect(table(el)!.shadowRoot!.textContent).to.not.contain('evidence pending');
    // Each row's badge carries the level the core computed, as icon plus text.
    for (const vm of audit.report.vms) {
      const badge = row(el, vm.vmid).querySelector<HTMLElement>('.risk-badge')!;
      expect(badge.dataset['level']).to.equal(vm.risk!.level);
      expect(badge.textContent).to.equal(RISK_LABEL[vm.risk!.level]);
    }
  });

  it('risk evidence fills in row by row: a reassessed VM shows its new level and loses the "config only" mark', async () => {
    const audit = fleetAudit();
    const { el, events, ctl } = await streamedView();
    audit.report.vms.forEach((vm, i) => {
      events.onProgress!(i + 1, audit.report.vms.length);
      events.onVm!(vm, audit.inputs[i]!);
    });
    events.onEvidence!();
    await rowsShown(el, 6);
    await waitUntil(() => /Reading risk evidence/.test(root(el).querySelector('.count')!.textContent ?? ''));
    const [first, second] = audit.report.vms;
    const before = second!.risk!.level;
    // The service reassesses the report in place, then hands it again.
    const next = first!.risk!.level === 'critical' ? 'ok' : 'critical';
    first!.risk = { ...first!.risk!, level: next };
    events.onRisk!(first!);
    await waitUntil(() => !row(el, first!.vmid).textContent!.includes('config only'));
    expect(row(el, first!.vmid).querySelector<HTMLElement>('.risk-badge')!.dataset['level']).to.equal(next);
    expect(row(el, second!.vmid).textContent).to.contain('config only; evidence pending');
    expect(row(el, second!.vmid).querySelector<HTMLElement>('.risk-badge')!.dataset['level']).to.equal(before);
    expect(root(el).querySelector('.count')!.textContent).to.match(/Reading risk evidence/);
    ctl.resolve(audit);
    await waitUntil(() => root(el).querySelector('.count')!.textContent === '6 of 6 VMs shown');
    expect(table(el)!.shadowRoot!.textContent).to.not.contain('evidence pending');
    expect(row(el, first!.vmid).querySelector<HTMLElement>('.risk-badge')!.dataset['level']).to.equal(next);
  });

  it('marks iothread=1 that QEMU ignores, templates, and pending values in dark orange', async () => {
    const { el } = await viewWith(loaded);
    await rowsShown(el, 6);
    expect(row(el, 100).textContent).to.contain('iothread configured on, runs off');
    expect(row(el, 101).querySelector('.mark')).to.equal(null);
    expect(row(el, 104).querySelector('.tag.template')!.textContent).to.equal('Template');
    expect(row(el, 100).querySelector('.tag.template')).to.equal(null);
    const pending = row(el, 102).querySelector('.pending:not(.tag)') as HTMLElement;
    expect(getComputedStyle(pending).color).to.equal('rgb(180, 83, 9)'); // dark orange, 5:1 on white
    // The controller in PVE's words: the pending one below the current.
    expect(row(el, 102).textContent).to.contain('Default (LSI 53C895A)');
    expect(pending.textContent).to.equal('VirtIO SCSI single');
    expect(row(el, 102).querySelector('.tag.pending')!.textContent).to.equal('written, needs a cold start');
  });

  it('column headers sort with aria-sort: risk worst first, then reversed; node', async () => {
    const { el, store } = await viewWith(loaded);
    await rowsShown(el, 6);
    const header = (key: string) => table(el)!.shadowRoot!.querySelector(`button[data-sort=${key}]`) as HTMLButtonElement;
    const ariaSort = (key: string) => header(key).closest('[role=columnheader]')!.getAttribute('aria-sort');
    expect(ariaSort('vmid')).to.equal('ascending');
    header('risk').click();
    await el.updateComplete;
    await table(el)!.updateComplete;
    expect(ariaSort('risk')).to.equal('ascending');
    expect(ariaSort('vmid')).to.equal('none');
    const rank = ['critical', 'warning', 'info', 'ok', 'unknown'];
    const levels = () => vmids(el).map((id) => rank.indexOf(row(el, id).querySelector<HTMLElement>('.risk-badge')!.dataset['level']!));
    await waitUntil(() => levels().every((l, i, a) => i === 0 || a[i - 1]! <= l), 'worst first');
    header('risk').click();
    await el.updateComplete;
    expect(ariaSort('risk')).to.equal('descending');
    await waitUntil(() => levels().every((l, i, a) => i === 0 || a[i - 1]! >= l), 'best first');
    expect(store.current.sort).to.deep.equal({ key: 'risk', dir: 'desc' });
    header('node').click();
    await el.updateComplete;
    await waitUntil(() => vmids(el).join() === '100,101,104,102,103,105', `by node: ${vmids(el).join()}`);
  });

  it('the text filter narrows the rows and is kept in the query store', async () => {
    const { el, store } = await viewWith(loaded);
    await rowsShown(el, 6);
    await setText(el, 'web');
    await waitUntil(() => vmids(el).join() === '102', 'only web1');
    await waitUntil(() => store.current.text === 'web');
  });

  it('a new filter or sort lists from the top, not from where the old list was scrolled', async () => {
    const { el } = await viewWith(loaded);
    await rowsShown(el, 6);
    const grid = table(el)!;
    grid.style.setProperty('--dp-table-height', '90px');
    const body = () => grid.shadowRoot!.querySelector<HTMLElement>('[role=rowgroup]')!;
    await waitUntil(() => body().scrollHeight > body().clientHeight + 60, 'a list taller than its view');
    body().scrollTop = body().scrollHeight;
    await waitUntil(() => body().scrollTop > 0, 'scrolled down');
    await setText(el, '10');
    await waitUntil(() => body().scrollTop === 0, `back at the top (scrollTop ${body().scrollTop})`);
    body().scrollTop = body().scrollHeight;
    await waitUntil(() => body().scrollTop > 0, 'scrolled down again');
    (grid.shadowRoot!.querySelector('[role=columnheader] button') as HTMLButtonElement).click();
    await waitUntil(() => body().scrollTop === 0, 'a sort lists from the top too');
  });

  it('quick filters: needs a cold start, IO thread ignored, templates', async () => {
    const { el, store } = await viewWith(loaded);
    await rowsShown(el, 6);
    const quick = (k: string) => filterEl(el).shadowRoot!.querySelector(`button[data-quick=${k}]`) as HTMLButtonElement;
    quick('cold-start').click();
    await waitUntil(() => vmids(el).join() === '102', `cold start: ${vmids(el).join()}`);
    expect(quick('cold-start').getAttribute('aria-pressed')).to.equal('true');
    quick('cold-start').click();
    quick('iothread-ignored').click();
    await waitUntil(() => vmids(el).join() === '100', `iothread ignored: ${vmids(el).join()}`);
    quick('iothread-ignored').click();
    quick('templates').click();
    await waitUntil(() => vmids(el).join() === '104', `templates: ${vmids(el).join()}`);
    expect(store.current.quick).to.deep.equal(['templates']);
  });

  it('a query in the store (the URL) is applied on load, the open VM included', async () => {
    const { el } = await viewWith(loaded, { query: { node: 'pve2', sort: { key: 'vmid', dir: 'desc' }, vm: 103 } });
    await rowsShown(el);
    expect(vmids(el)).to.deep.equal([105, 103, 102]);
    await waitUntil(() => detail(el));
    expect(detail(el)!.shadowRoot!.querySelector('dp-dialog')!.getAttribute('heading')).to.equal("VM 103 (build1) on node 'pve2'");
  });

  it('an error shows the message with Retry, and Retry loads again', async () => {
    const ctl = manualLoader<FleetAudit>();
    const { el } = await viewWith(ctl.loader);
    ctl.reject(new PveApiError({ status: 403, text: 'Permission check failed (/vms, VM.Audit)', method: 'GET', path: '/cluster/resources' }));
    await waitUntil(() => root(el).querySelector('dp-alert[variant=error]'), 'error alert');
    const alert = root(el).querySelector('dp-alert')!;
    expect(alert.textContent).to.contain('Permission check failed');
    await alert.updateComplete;
    expect(alert.shadowRoot!.querySelector('[role=alert]')).to.exist;
    (alert.shadowRoot!.querySelector('button') as HTMLButtonElement).click();
    expect(ctl.calls).to.equal(2);
    await waitUntil(() => root(el).querySelector('dp-spinner'), 'loading again');
    ctl.resolve(fleetAudit());
    await rowsShown(el, 6);
  });

  it('an empty cluster says so (not the filter message)', async () => {
    const { el } = await viewWith(() => Promise.resolve(fleetAudit([])));
    await waitUntil(() => root(el).querySelector('dp-empty-state'));
    const empty = root(el).querySelector('dp-empty-state')!;
    expect(empty.textContent).to.contain('No VMs found');
    expect(empty.classList.contains('filtered-empty')).to.equal(false);
  });

  it('a filter that matches nothing names the filter and can be cleared', async () => {
    const { el } = await viewWith(loaded, { query: { node: 'pve2', text: 'db1', quick: ['templates'] } });
    await waitUntil(() => root(el).querySelector('dp-empty-state.filtered-empty'));
    const empty = root(el).querySelector('dp-empty-state.filtered-empty')!;
    expect(empty.textContent).to.contain('No VMs match node pve2, templates and "db1"');
    (empty.querySelector('button') as HTMLButtonElement).click();
    await rowsShown(el, 6);
  });

  it('Export CSV holds exactly the shown VMs, in the CLI\'s columns', async () => {
    const { el } = await viewWith(loaded, { query: { node: 'pve1' } });
    await rowsShown(el, 3);
    const blobs: Blob[] = [];
    const real = URL.createObjectURL;
    URL.createObjectURL = (b: Blob | MediaSource) => {
      blobs.push(b as Blob);
      return real.call(URL, b);
    };
    try {
      (root(el).querySelector('button.export-csv') as HTMLButtonElement).click();
    } finally {
      URL.createObjectURL = real;
    }
    const lines = (await blobs[0]!.text()).trim().split('\n');
    expect(lines[0]).to.match(/^vmid,name,node,status,source,scsihw,/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).to.deep.equal(['100', '101', '104']);
  });
});

describe('dp-vm-detail (a window over the table)', () => {
  it('opens from the keyboard, names disks in PVE\'s words, closes with Escape, and focus returns to the row', async () => {
    const { el, store } = await viewWith(loaded);
    await rowsShown(el, 6);
    const open = row(el, 102).querySelector('button.open') as HTMLButtonElement;
    open.focus();
    // Enter on a focused button is a click.
    open.click();
    await waitUntil(() => detail(el), 'detail opened');
    expect(store.current.vm).to.equal(102);
    const d = detail(el)!;
    await d.updateComplete;
    const dialog = d.shadowRoot!.querySelector('dp-dialog')!;
    await dialog.updateComplete;
    expect(dialog.shadowRoot!.querySelector('dialog')!.open).to.equal(true);
    const text = deepText(d);
    expect(text).to.contain('Hard Disk (scsi0)');
    expect(text).to.contain('SCSI Controller');
    expect(text).to.contain('Default (io_uring)');
    // The pending Async IO sits below the current value, in dark orange.
    const pend = [...d.shadowRoot!.querySelectorAll('dp-pending-value')].map((p) => p.shadowRoot!.querySelector('.pending')?.textContent).filter(Boolean);
    expect(pend).to.include('VirtIO SCSI single');
    expect(pend.some((p) => /threads/.test(p!))).to.equal(true);
    // Focus is inside the window.
    expect(d.shadowRoot!.activeElement ?? dialog.shadowRoot!.activeElement ?? document.activeElement).to.exist;
    const inner = dialog.shadowRoot!.querySelector('dialog')!;
    inner.dispatchEvent(new Event('cancel', { cancelable: true }));
    await waitUntil(() => !detail(el), 'detail closed');
    expect(store.current.vm).to.equal(null);
    await waitUntil(() => table(el)!.shadowRoot!.activeElement?.closest('.row')?.getAttribute('data-vmid') === '102', 'focus back on the row');
  });

  for (const theme of THEMES) {
    it(`is accessible (axe, ${theme})`, async () => {
      const { el } = await viewWith(loaded, { theme, query: { vm: 100 } });
      await waitUntil(() => detail(el));
      await detail(el)!.updateComplete;
      await expect(detail(el)!).to.be.accessible();
    });
  }

  it('closes with the close tool', async () => {
    const { el } = await viewWith(loaded, { query: { vm: 101 } });
    await waitUntil(() => detail(el));
    const dialog = detail(el)!.shadowRoot!.querySelector('dp-dialog')!;
    await dialog.updateComplete;
    (dialog.shadowRoot!.querySelector('button.close') as HTMLButtonElement).click();
    await waitUntil(() => !detail(el), 'closed');
  });
});

describe('dp-plan-preview (from the ticked VMs)', () => {
  async function tick(el: DpFleetView, ...ids: number[]) {
    for (const id of ids) (row(el, id).querySelector('input[type=checkbox]') as HTMLInputElement).click();
    await el.updateComplete;
  }
  const planIds = (p: Element) => ((p as unknown as { plan: { vms: { vmid: number }[] } }).plan.vms.map((v) => v.vmid));

  it('ticked VMs hidden by the filter are listed with their node and left out unless included', async () => {
    const { el } = await viewWith(loaded);
    await rowsShown(el, 6);
    await tick(el, 100, 102);
    await setText(el, 'db');
    await waitUntil(() => vmids(el).join() === '100');
    const button = root(el).querySelector('button.plan') as HTMLButtonElement;
    await waitUntil(() => button.textContent!.includes('(1)'), button.textContent!);
    button.click();
    await waitUntil(() => preview(el));
    const p = preview(el)!;
    await p.updateComplete;
    expect(planIds(p)).to.deep.equal([100]);
    const warn = p.shadowRoot!.querySelector('dp-alert.hidden-ticked')!;
    expect(warn.getAttribute('heading')).to.equal('1 ticked VM is hidden by the filter and not included:');
    expect(warn.textContent).to.contain('VM 102 (web1) on pve2');
    (warn.querySelector('input[name=include-hidden]') as HTMLInputElement).click();
    await el.updateComplete;
    await p.updateComplete;
    expect(planIds(p)).to.deep.equal([100, 102]);
  });

  for (const theme of THEMES) {
    it(`is accessible (axe, ${theme})`, async () => {
      const { el } = await viewWith(loaded, { theme });
      await rowsShown(el, 6);
      await tick(el, 100, 102, 105);
      (root(el).querySelector('button.plan') as HTMLButtonElement).click();
      await waitUntil(() => preview(el));
      await preview(el)!.updateComplete;
      await waitUntil(() => preview(el)!.shadowRoot!.querySelectorAll('.vm').length === 3);
      await expect(preview(el)!).to.be.accessible();
    });
  }

  it('a VM already written says "written, needs a cold start" (no second write); SATA on VirtIO SCSI says what is true', async () => {
    const { el } = await viewWith(loaded);
    await rowsShown(el, 6);
    await tick(el, 102, 105);
    (root(el).querySelector('button.plan') as HTMLButtonElement).click();
    await waitUntil(() => preview(el)?.shadowRoot?.querySelectorAll('.vm').length === 2);
    const p = preview(el)!;
    const written = p.shadowRoot!.querySelector('.vm[data-vmid="102"]')!;
    expect(written.getAttribute('data-state')).to.equal('written');
    expect(written.textContent).to.contain('Written, needs a cold start');
    const sata = p.shadowRoot!.querySelector('.vm[data-vmid="105"]')!;
    expect(sata.querySelector('.nothing')!.textContent).to.not.contain('virtio-scsi-single');
    expect(sata.querySelector('.nothing')!.textContent).to.contain('sata0 is on SATA');
  });

  it('read-only: no write control exists, and it says why once', async () => {
    const { el } = await viewWith(loaded, { readOnly: true });
    await rowsShown(el, 6);
    await tick(el, 100);
    (root(el).querySelector('button.plan') as HTMLButtonElement).click();
    await waitUntil(() => preview(el));
    const p = preview(el)!;
    await p.updateComplete;
    expect(p.shadowRoot!.querySelector('button.apply')).to.equal(null);
    expect(p.shadowRoot!.querySelector('input[name=reboot]')).to.equal(null);
    expect(p.shadowRoot!.querySelectorAll('.read-only').length).to.equal(1);
  });
});
