// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { PveApiError } from '../../src/api/errors.js';
import type { DpFleetView } from '../../panel/views/dp-fleet-view.js';
import '../../panel/views/dp-fleet-view.js';
import { fleetAudit, manualLoader } from './fleet-fixture.js';
import type { FleetAudit } from '../../panel/data/fleet-audit.js';
import type { Applier, ShimApplyAnswer } from '../../panel/data/apply.js';

const root = (el: Element) => el.shadowRoot!;
const table = (el: DpFleetView) => root(el).querySelector('dp-fleet-table');
const rows = (el: DpFleetView) => [...(table(el)?.shadowRoot?.querySelectorAll('tbody tr') ?? [])] as HTMLElement[];

async function viewWith(loader: (s: AbortSignal) => Promise<FleetAudit>, readOnly = false, applier?: Applier): Promise<DpFleetView> {
  const mode = { readOnly, readOnlyReason: readOnly ? 'test' : '', upstream: 'pve1:8006', canApply: applier !== undefined, csrfToken: 't' };
  return fixture<DpFleetView>(html`<dp-fleet-view .loader=${loader} .applier=${applier} .mode=${mode}></dp-fleet-view>`);
}

/** Ticks the first VM and opens its plan preview. */
async function previewFirst(el: DpFleetView) {
  await waitUntil(() => table(el));
  await table(el)!.updateComplete;
  (rows(el)[0]!.querySelector('input[type=checkbox]') as HTMLInputElement).click();
  await el.updateComplete;
  (root(el).querySelector('button.primary') as HTMLButtonElement).click();
  await el.updateComplete;
  const preview = root(el).querySelector('dp-plan-preview')!;
  await preview.updateComplete;
  return preview;
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

  describe('Apply (behind a writable shim)', () => {
    const answer: ShimApplyAnswer = {
      summary: { run: 'apply-1', results: [{ vmid: 100, node: 'pve1', result: 'pending-reboot' }], counts: { 'pending-reboot': 1 } },
      planFile: '/state/plans/panel-abc.json',
      journal: '/state/journals/apply-abc.jsonl',
      rollback: 'pve-dataplane rollback --pve https://pve1:8006 --token-file TOKEN_FILE --journal /state/journals/apply-abc.jsonl --yes',
      errors: [],
    };
    let realConfirm: typeof window.confirm;
    beforeEach(() => {
      realConfirm = window.confirm;
    });
    afterEach(() => {
      window.confirm = realConfirm;
    });

    it('asks "Are you sure", hands the VMs to the shim, shows the journal and the rollback command, and reloads', async () => {
      let loads = 0;
      const applied: (readonly number[])[] = [];
      const el = await viewWith(
        () => {
          loads++;
          return Promise.resolve(fleetAudit());
        },
        false,
        (vmids) => {
          applied.push(vmids);
          return Promise.resolve(answer);
        },
      );
      const preview = await previewFirst(el);
      const asked: string[] = [];
      window.confirm = (msg?: string) => {
        asked.push(String(msg));
        return true;
      };
      (preview.shadowRoot!.querySelector('button.apply') as HTMLButtonElement).click();
      await waitUntil(() => root(el).querySelector('dp-alert.apply-result'), 'apply result');
      expect(asked[0]).to.match(/^Are you sure you want to apply the migration to VM 100\?/);
      expect(applied).to.deep.equal([[100]]);
      const result = root(el).querySelector('dp-alert.apply-result')!;
      expect(result.getAttribute('heading')).to.equal('Apply finished: 1 pending reboot');
      // Outcomes in words, as the CLI summary prints them, not the JSON tokens.
      expect(result.querySelector('li')!.textContent).to.equal('VM 100 (pve1): pending reboot');
      expect(result.textContent).to.contain(answer.journal);
      expect(result.querySelector('pre')!.textContent).to.equal(answer.rollback);
      await waitUntil(() => loads === 2, 'fleet reloaded after apply');
    });

    it('Cancel in the dialog applies nothing', async () => {
      let calls = 0;
      const el = await viewWith(() => Promise.resolve(fleetAudit()), false, () => {
        calls++;
        return Promise.resolve(answer);
      });
      const preview = await previewFirst(el);
      window.confirm = () => false;
      (preview.shadowRoot!.querySelector('button.apply') as HTMLButtonElement).click();
      await el.updateComplete;
      expect(calls).to.equal(0);
      expect(root(el).querySelector('dp-alert.apply-result')).to.equal(null);
    });

    it('a refused apply shows the shim\'s message', async () => {
      const el = await viewWith(() => Promise.resolve(fleetAudit()), false, () => Promise.reject(new Error('another apply is running in this shim (409)')));
      const preview = await previewFirst(el);
      window.confirm = () => true;
      (preview.shadowRoot!.querySelector('button.apply') as HTMLButtonElement).click();
      await waitUntil(() => root(el).querySelector('dp-alert.apply-result[variant=error]'));
      expect(root(el).querySelector('dp-alert.apply-result')!.textContent).to.contain('another apply is running');
    });

    it('read-only mode hides the Apply button', async () => {
      const el = await viewWith(() => Promise.resolve(fleetAudit()), true, () => Promise.resolve(answer));
      const preview = await previewFirst(el);
      expect(preview.shadowRoot!.querySelector('button.apply')).to.equal(null);
      expect(preview.shadowRoot!.textContent).to.contain('hidden in read-only mode');
    });
  });
});
