// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The filter bar offers a node choice only where there is one to make.
import { expect, fixture, html } from '@open-wc/testing';
import type { DpFleetFilter } from '../../panel/views/dp-fleet-filter.js';
import '../../panel/views/dp-fleet-filter.js';
import type { DpFilterChangeEvent } from '../../panel/events.js';

const NO_FILTER = { node: '', risk: '' as const, text: '', quick: [] };

describe('dp-fleet-filter node choice', () => {
  it('a fleet on two nodes offers All Nodes and each node', async () => {
    const el = await fixture<DpFleetFilter>(html`<dp-fleet-filter .nodes=${['pve1', 'pve2']} .filter=${NO_FILTER}></dp-fleet-filter>`);
    const options = [...el.shadowRoot!.querySelectorAll('select[name=node] option')].map((o) => o.textContent);
    expect(options).to.deep.equal(['All Nodes', 'pve1', 'pve2']);
  });

  it('one node (a node tab in PVE) shows no node select, and the filter it sends names no node', async () => {
    const el = await fixture<DpFleetFilter>(html`<dp-fleet-filter .nodes=${['pve1']} .filter=${NO_FILTER}></dp-fleet-filter>`);
    expect(el.shadowRoot!.querySelector('select[name=node]')).to.equal(null);
    let sent: DpFilterChangeEvent['filter'] | null = null;
    el.addEventListener('dp-filter-change', (e) => (sent = (e as DpFilterChangeEvent).filter));
    const risk = el.shadowRoot!.querySelector('select[name=risk]') as HTMLSelectElement;
    risk.value = 'critical';
    risk.dispatchEvent(new Event('change'));
    expect(sent).to.deep.include({ node: '', risk: 'critical' });
  });

  it('a node chosen before (from the URL) stays visible and selected even when only that node is listed', async () => {
    const el = await fixture<DpFleetFilter>(html`<dp-fleet-filter .nodes=${['pve2']} .filter=${{ ...NO_FILTER, node: 'pve2' }}></dp-fleet-filter>`);
    expect((el.shadowRoot!.querySelector('select[name=node]') as HTMLSelectElement).value).to.equal('pve2');
  });
});
