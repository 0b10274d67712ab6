// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { PveApiError } from '../../src/api/errors.js';
import type { DpFleetView } from '../../panel/views/dp-fleet-view.js';
import '../../panel/views/dp-fleet-view.js';
import { fleetAudit, manualLoader } from './fleet-fixture.js';
import type { FleetAudit } from '../../panel/data/fleet-audit.js';

const root = (el: Element) => el.shadowRoot!;
const table = (el: DpFleetView) => root(el).querySelector('dp-fleet-table');
const rows = (el: DpFleetView) => [...(table(el)?.shadowRoot?.querySelectorAll('tbody tr') ?? [])] as HTMLElement[];

async function viewWith(loader: (s: AbortSignal) => Promise<FleetAudit>, readOnly = false): Promise<DpFleetView> {
  return fixture<DpFleetView>(
    html`<dp-fleet-view .loader=${loader} .mode=${{ readOnly, readOnlyReason: readOnly ? 'test' : '', upstream: 'pve1:8006' }}></dp-fleet-view>`,
  );
}

describe('dp-fleet-view', () => {
  it('Reload aborts the load in flight (the Task passes its AbortSignal)', async () => {
    const signals: AbortSignal[] = [];
    const el = await viewWith((signal) => {
      signals.push(signal);
      return new Promise<FleetAudit>(() => {});
    });
    el.reload();
    await el.updateComplete;
    expect(signals.length).to.equal(2);
    expect(signals[0]!.aborted).to.equal(true);
    expect(signals[1]!.aborted).to.equal(false);
  });

  it('the loaded table is accessible (axe)', async () => {
    const el = await viewWith(() => Promise.resolve(fleetAudit()));
    await waitUntil(() => table(el));
    await table(el)!.updateComplete;
    await expect(el).to.be.accessible();
  });

  it('the error state is accessible (axe)', async () => {
    const el = await viewWith(() => Promise.reject(new Error('Connection error - Timeout.')));
    await waitUntil(() => root(el).querySelector('dp-alert'));
    await expect(el).to.be.accessible();
  });

  it('shows a labelled progressbar while loading, then one row per VM with its risk', async () => {
    const ctl = manualLoader<FleetAudit>();
    const el = await viewWith(ctl.loader);
    const spinner = root(el).querySelector('dp-spinner')!;
    expect(spinner).to.exist;
    expect(spinner.shadowRoot!.querySelector('[role=progressbar]')!.getAttribute('aria-label')).to.match(/Please wait|Loading/);
    const audit = fleetAudit();
    ctl.resolve(audit);
    await waitUntil(() => table(el), 'table rendered');
    await table(el)!.updateComplete;
    expect(rows(el).map((r) => r.dataset['vmid'])).to.deep.equal(['100', '101', '102', '103']);
    // Each row's badge carries the level the core computed, as icon plus text.
    for (const [i, vm] of audit.report.vms.entries()) {
      const badge = rows(el)[i]!.querySelector('dp-risk-badge')!;
      expect(badge.getAttribute('level')).to.equal(vm.risk!.level);
      await badge.updateComplete;
      expect(badge.shadowRoot!.querySelector('svg')).to.exist;
      expect(badge.shadowRoot!.textContent!.trim()).to.not.equal('');
    }
  });

  it('marks iothread=1 that QEMU ignores, and shows pending values below the current ones', async () => {
    const el = await viewWith(() => Promise.resolve(fleetAudit()));
    await waitUntil(() => table(el));
    await table(el)!.updateComplete;
    const lsi = rows(el).find((r) => r.dataset['vmid'] === '100')!;
    expect(lsi.textContent).to.contain('iothread configured on, runs off');
    const single = rows(el).find((r) => r.dataset['vmid'] === '101')!;
    expect(single.querySelector('.mark')).to.equal(null);
    const pendingRow = rows(el).find((r) => r.dataset['vmid'] === '102')!;
    const values = [...pendingRow.querySelectorAll('dp-pending-value')];
    await Promise.all(values.map((v) => (v as HTMLElement & { updateComplete: Promise<unknown> }).updateComplete));
    const pending = values.map((v) => v.shadowRoot!.querySelector('.pending')).filter(Boolean) as HTMLElement[];
    expect(pending.length).to.be.greaterThan(0);
    expect(getComputedStyle(pending[0]!).color).to.equal('rgb(180, 83, 9)'); // dark orange, 5:1 on white
    // The controller in PVE's words: unset is the LSI default; the pending one below it.
    const controller = values[0]!.shadowRoot!;
    expect(controller.querySelector('.current')!.textContent).to.equal('Default (LSI 53C895A)');
    expect(controller.querySelector('.pending')!.textContent).to.equal('VirtIO SCSI single');
  });

  it('an error shows the message with Retry, and Retry loads again', async () => {
    const ctl = manualLoader<FleetAudit>();
    const el = await viewWith(ctl.loader);
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
    await waitUntil(() => table(el), 'table after retry');
  });

  it('an empty cluster says so (not the filter message)', async () => {
    const el = await viewWith(() => Promise.resolve(fleetAudit([])));
    await waitUntil(() => root(el).querySelector('dp-empty-state'));
    const empty = root(el).querySelector('dp-empty-state')!;
    expect(empty.textContent).to.contain('No VMs found');
    expect(empty.classList.contains('filtered-empty')).to.equal(false);
  });

  it('a filter that matches nothing names the filter and can be cleared', async () => {
    const el = await viewWith(() => Promise.resolve(fleetAudit()));
    await waitUntil(() => root(el).querySelector('dp-fleet-filter'));
    const filter = root(el).querySelector('dp-fleet-filter')!;
    await filter.updateComplete;
    const node = filter.shadowRoot!.querySelector('select[name=node]') as HTMLSelectElement;
    node.value = 'pve2';
    node.dispatchEvent(new Event('change'));
    const text = filter.shadowRoot!.querySelector('input[name=text]') as HTMLInputElement;
    text.value = 'db1';
    text.dispatchEvent(new Event('input'));
    await el.updateComplete;
    const empty = root(el).querySelector('dp-empty-state.filtered-empty')!;
    expect(empty).to.exist;
    expect(empty.textContent).to.contain('No VMs match node pve2 and "db1"');
    (empty.querySelector('button') as HTMLButtonElement).click();
    await el.updateComplete;
    await table(el)!.updateComplete;
    expect(rows(el).length).to.equal(4);
  });

  it('the node filter keeps only that node', async () => {
    const el = await viewWith(() => Promise.resolve(fleetAudit()));
    await waitUntil(() => root(el).querySelector('dp-fleet-filter'));
    const filter = root(el).querySelector('dp-fleet-filter')!;
    await filter.updateComplete;
    const node = filter.shadowRoot!.querySelector('select[name=node]') as HTMLSelectElement;
    node.value = 'pve1';
    node.dispatchEvent(new Event('change'));
    await el.updateComplete;
    await table(el)!.updateComplete;
    expect(rows(el).map((r) => r.dataset['vmid'])).to.deep.equal(['100', '101']);
  });

  it('opening a VM shows its risk reasons with evidence and fix', async () => {
    const audit = fleetAudit();
    const el = await viewWith(() => Promise.resolve(audit));
    await waitUntil(() => table(el));
    await table(el)!.updateComplete;
    (rows(el)[0]!.querySelector('button.link') as HTMLButtonElement).click();
    await el.updateComplete;
    const detail = root(el).querySelector('dp-vm-detail')!;
    await detail.updateComplete;
    const reasons = audit.report.vms[0]!.risk!.reasons;
    expect(reasons.length).to.be.greaterThan(0);
    const text = detail.shadowRoot!.textContent!;
    expect(text).to.contain(reasons[0]!.message);
    expect(text).to.contain(reasons[0]!.fix);
  });

  for (const readOnly of [false, true]) {
    it(`the plan preview of ticked VMs ${readOnly ? 'hides' : 'shows'} the apply commands${readOnly ? ' in read-only mode' : ''}`, async () => {
      const el = await viewWith(() => Promise.resolve(fleetAudit()), readOnly);
      await waitUntil(() => table(el));
      await table(el)!.updateComplete;
      (rows(el)[0]!.querySelector('input[type=checkbox]') as HTMLInputElement).click();
      await el.updateComplete;
      const planButton = root(el).querySelector('button.primary') as HTMLButtonElement;
      expect(planButton.disabled).to.equal(false);
      planButton.click();
      await el.updateComplete;
      const preview = root(el).querySelector('dp-plan-preview')!;
      await preview.updateComplete;
      const text = preview.shadowRoot!.textContent!;
      // The planner's change for VM 100: the controller moves to virtio-scsi-single, drawn as a
      // pending value (current, then the proposal in dark orange).
      const scsihwRow = [...preview.shadowRoot!.querySelectorAll('tbody tr')].find((r) => r.querySelector('td.key')?.textContent === 'scsihw')!;
      const value = scsihwRow.querySelector('dp-pending-value')!;
      await value.updateComplete;
      expect(value.shadowRoot!.querySelector('.pending')!.textContent).to.equal('virtio-scsi-single');
      if (readOnly) {
        expect(preview.shadowRoot!.querySelector('pre')).to.equal(null);
        expect(text).to.contain('hidden in read-only mode');
      } else {
        expect(preview.shadowRoot!.querySelector('pre')!.textContent).to.contain('--vmid 100');
      }
    });
  }
});
