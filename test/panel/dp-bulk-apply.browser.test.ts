// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import type { DpFleetView } from '../../panel/views/dp-fleet-view.js';
import '../../panel/views/dp-fleet-view.js';
import { EMPTY_QUERY } from '../../panel/data/fleet-query.js';
import { memoryStore } from '../../panel/data/url-state.js';
import { fakeJobs, jobView } from './fake-jobs.js';
import { fleetAudit } from './fleet-fixture.js';
import { THEMES } from './themed.js';
import { preview, root, row, rowsShown } from './view-helpers.js';
import { waitUntil } from './wait-until.js';

async function view(jobs: ReturnType<typeof fakeJobs>, opts: { readOnly?: boolean; theme?: string } = {}) {
  const mode = { readOnly: opts.readOnly ?? false, readOnlyReason: opts.readOnly ? 'test' : '', upstream: 'pve1:8006', canApply: !opts.readOnly, csrfToken: 't' };
  const wrapper = await fixture<HTMLElement>(
    html`<dp-test-theme theme=${opts.theme ?? 'light'}
      ><dp-fleet-view .loader=${() => Promise.resolve(fleetAudit())} .jobs=${jobs.jobs} .mode=${mode} .queryStore=${memoryStore(EMPTY_QUERY)}></dp-fleet-view
    ></dp-test-theme>`,
  );
  const el = wrapper.querySelector('dp-fleet-view')!;
  await rowsShown(el, 6);
  return el;
}

async function openPlan(el: DpFleetView, ...ids: number[]) {
  for (const id of ids) (row(el, id).querySelector('input[type=checkbox]') as HTMLInputElement).click();
  await el.updateComplete;
  (root(el).querySelector('button.plan') as HTMLButtonElement).click();
  await waitUntil(() => preview(el));
  const p = preview(el)!;
  await p.updateComplete;
  return p;
}

const progress = (el: DpFleetView) => root(el).querySelector('dp-job-progress');
const sr = (e: Element) => e.shadowRoot!;
const click = (host: Element, sel: string) => (sr(host).querySelector(sel) as HTMLElement).click();

describe('bulk apply on the jobs API', () => {
  it('applies the previewed plan with the reboot choice, follows each VM live, cancels, and sums up', async () => {
    const fake = fakeJobs();
    const el = await view(fake);
    const p = await openPlan(el, 100, 102);
    // Without a reboot, VM 102 (already written) is not written again.
    expect(sr(p).querySelector('button.apply')!.textContent!.trim()).to.equal('Apply to 1 VM');
    const choice = sr(p).querySelector('dp-reboot-choice')!;
    await choice.updateComplete;
    (sr(choice).querySelector('input[value=now]') as HTMLInputElement).click();
    await p.updateComplete;
    expect(sr(p).querySelector('button.apply')!.textContent!.trim()).to.equal('Apply to 2 VMs');
    click(p, 'button.apply');
    await p.updateComplete;
    const confirm = sr(p).querySelector('.confirm')!;
    expect(confirm.textContent).to.contain('Are you sure you want to move 2 VMs on pve1 (1), pve2 (1) to VirtIO SCSI single with IO thread and reboot them?');
    expect(confirm.textContent).to.contain('VM 100 (db1) on pve1');
    expect(confirm.textContent).to.contain('VM 102 (web1) on pve2: written, needs a cold start');
    click(p, '.confirm button.yes');
    await waitUntil(() => progress(el), 'job followed');
    expect(fake.of('createPlan')[0]![0]).to.deep.equal({ vms: [{ vmid: 100, node: 'pve1' }, { vmid: 102, node: 'pve2' }], aio: 'threads' });
    expect(fake.of('startJob')[0]![0]).to.deep.equal({ planId: 'plan-1', reboot: 'now', perNodeRebootConcurrency: 1, vmids: [100, 102] });
    expect(preview(el)).to.equal(null);
    const prog = progress(el)!;
    await waitUntil(() => fake.subscribed());
    fake.push.vm({ vmid: 100, state: 'writing' });
    await prog.updateComplete;
    expect(sr(prog).querySelector('.counts')!.textContent).to.contain('1 queued, 1 writing');
    click(prog, 'button.cancel');
    await waitUntil(() => fake.of('cancel').length === 1);
    await waitUntil(() => !sr(prog).querySelector('button.cancel'), 'Cancel gone once requested');
    fake.push.vm({ vmid: 100, state: 'written', reason: 'running: pending until a cold start' });
    fake.push.vm({ vmid: 102, node: 'pve2', state: 'skipped', reason: 'cancelled before it started' });
    fake.push.summary({ status: 'cancelled', stopReason: 'cancelled by root@pam', cancelRequested: true });
    await waitUntil(() => sr(prog).querySelector('.journal'), 'summary');
    const text = sr(prog).textContent!;
    expect(text).to.contain('cancelled (cancelled by root@pam)');
    const vmText = (id: number) => sr(prog).querySelector(`.vm[data-vmid="${id}"]`)?.textContent ?? '';
    await waitUntil(() => vmText(102).includes('skipped: cancelled before it started'), vmText(102));
    expect(vmText(100)).to.contain('written, pending cold start');
    // Two VMs' lines are listed in place, in a box that ends with them (no blank virtualizer box).
    const list = sr(prog).querySelector<HTMLElement>('[role=list]')!;
    const lines = list.querySelectorAll('[role=listitem]');
    expect(lines.length).to.equal(2);
    expect(list.getBoundingClientRect().bottom - lines[1]!.getBoundingClientRect().bottom).to.be.lessThan(4);
    expect(sr(prog).querySelector('button.rollback')).to.exist;
  });

  it('a VM changed since the preview is left out and named, never re-planned', async () => {
    const fake = fakeJobs({
      editPlan: (a) => {
        a.plan.vms.find((v) => v.vmid === 100)!.digest = 'edited-meanwhile';
      },
    });
    const el = await view(fake);
    const p = await openPlan(el, 100, 101, 103);
    click(p, 'button.apply');
    await p.updateComplete;
    click(p, '.confirm button.yes');
    await waitUntil(() => progress(el));
    expect((fake.of('startJob')[0]![0] as { vmids: number[] }).vmids).to.deep.equal([103]);
    const prog = progress(el)!;
    await prog.updateComplete;
    expect(sr(prog).querySelector('.left-out')!.textContent).to.contain('VM 100 on pve1: changed since the preview');
  });

  it('Past Runs lists runs with their outcome; Roll Back of chosen VMs with the reboot choice', async () => {
    const past = jobView('job-7', [
      { vmid: 100, node: 'pve1', state: 'written' },
      { vmid: 101, node: 'pve1', state: 'verified' },
      { vmid: 103, node: 'pve2', state: 'failed' },
    ], { status: 'finished', finishedAt: '2026-12-07T10:05:00Z' });
    const fake = fakeJobs({ past: [past] });
    const el = await view(fake);
    (root(el).querySelector('button.runs') as HTMLButtonElement).click();
    await waitUntil(() => root(el).querySelector('dp-job-list'));
    const list = root(el).querySelector('dp-job-list')!;
    await waitUntil(() => sr(list).querySelector('tr[data-job="job-7"]'), 'run listed');
    expect(sr(list).querySelector('tr[data-job="job-7"]')!.textContent).to.contain('finished with failures');
    click(list, 'tr[data-job="job-7"] button.rollback');
    await waitUntil(() => sr(list).querySelector('input[name=vm]'));
    // The failed VM wrote nothing: it is not offered.
    expect([...sr(list).querySelectorAll<HTMLInputElement>('input[name=vm]')].map((i) => i.value)).to.deep.equal(['100', '101']);
    (sr(list).querySelector('input[name=vm][value="101"]') as HTMLInputElement).click();
    await list.updateComplete;
    const choice = sr(list).querySelector('dp-reboot-choice')!;
    await choice.updateComplete;
    (sr(choice).querySelector('input[value=if-stopped]') as HTMLInputElement).click();
    await list.updateComplete;
    click(list, 'button.start-rollback');
    await list.updateComplete;
    expect(sr(list).querySelector('.confirm')!.textContent).to.contain('Are you sure you want to roll back 1 VM on pve1 (1)?');
    click(list, '.confirm button.yes');
    await waitUntil(() => progress(el), 'rollback followed');
    expect(fake.of('rollback')[0]).to.deep.equal(['job-7', { reboot: 'if-stopped', perNodeRebootConcurrency: 1, vmids: [100] }]);
    expect(root(el).querySelector('dp-job-list')).to.equal(null);
  });

  it('read-only: no Past Runs, no Apply, no reboot choice (absent, not disabled)', async () => {
    const fake = fakeJobs();
    const el = await view(fake, { readOnly: true });
    expect(root(el).querySelector('button.runs')).to.equal(null);
    const p = await openPlan(el, 100);
    expect(sr(p).querySelector('button.apply')).to.equal(null);
    expect(sr(p).querySelector('dp-reboot-choice')).to.equal(null);
    expect(fake.calls).to.deep.equal([]);
  });

  for (const theme of THEMES) {
    it(`the job progress and the past runs are accessible (axe, ${theme})`, async () => {
      const past = jobView('job-7', [{ vmid: 100, node: 'pve1', state: 'written' }], { status: 'finished' });
      const fake = fakeJobs({ past: [past] });
      const el = await view(fake, { theme });
      const p = await openPlan(el, 100);
      click(p, 'button.apply');
      await p.updateComplete;
      click(p, '.confirm button.yes');
      await waitUntil(() => progress(el));
      await progress(el)!.updateComplete;
      await waitUntil(() => sr(progress(el)!).querySelector('.vm'));
      await expect(progress(el)!).to.be.accessible();
      (root(el).querySelector('button.runs') as HTMLButtonElement).click();
      await waitUntil(() => root(el).querySelector('dp-job-list'));
      const list = root(el).querySelector('dp-job-list')!;
      await waitUntil(() => sr(list).querySelector('tr[data-job]'));
      await expect(list).to.be.accessible();
    });
  }
});
