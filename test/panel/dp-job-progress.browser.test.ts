// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// A job's VM lines: up to 12 in place, more through the virtualizer (panel/components/item-list.ts).
import { expect, fixture, html } from '@open-wc/testing';
import type { DpJobProgress } from '../../panel/views/dp-job-progress.js';
import '../../panel/views/dp-job-progress.js';
import { S } from '../../panel/strings.js';
import { fakeJobs, jobView } from './fake-jobs.js';

async function progress(n: number): Promise<DpJobProgress> {
  const vms = Array.from({ length: n }, (_, i) => ({ vmid: 100 + i, node: 'pve1', state: 'verified' as const }));
  const job = jobView(`job-${n}`, vms, { status: 'finished', finishedAt: '2026-12-07T10:05:00Z' });
  const el = await fixture<DpJobProgress>(html`<dp-job-progress .jobs=${fakeJobs().jobs} .job=${job}></dp-job-progress>`);
  await el.updateComplete;
  return el;
}

const list = (el: DpJobProgress) => el.shadowRoot!.querySelector<HTMLElement>('[role=list]')!;

describe('dp-job-progress VM lines', () => {
  it('a job of 12 VMs lists every line in place, in a box that ends with the last one', async () => {
    const el = await progress(12);
    expect(list(el).tagName).to.equal('DIV');
    const lines = list(el).querySelectorAll('[role=listitem]');
    expect(lines.length).to.equal(12);
    expect(lines[11]!.textContent).to.contain('VM 111 on pve1');
    expect(list(el).getBoundingClientRect().bottom - lines[11]!.getBoundingClientRect().bottom).to.be.lessThan(4);
  });

  it('a job of 13 VMs goes through the virtualizer, in its fixed-height box', async () => {
    const el = await progress(13);
    expect(list(el).tagName).to.equal('LIT-VIRTUALIZER');
    expect(list(el).getAttribute('aria-label')).to.equal(S.jobVms);
    // min(30vh, 260px) (lit-virtualizer's own floor: 150 px), borders included.
    const box = Math.max(150, Math.min(innerHeight * 0.3, 260));
    expect(list(el).getBoundingClientRect().height).to.be.within(box, box + 3);
  });
});
