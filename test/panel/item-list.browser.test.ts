// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The short list shown in place, the long one virtualized (panel/components/item-list.ts), as the
// plan preview and the job progress use it.
import { expect, fixture, html as testHtml } from '@open-wc/testing';
import { LitElement, css, html } from 'lit';
import { itemList, itemListStyles } from '../../panel/components/item-list.js';

class DpItemListProbe extends LitElement {
  static override styles = [
    itemListStyles,
    css`
      :host {
        display: block;
        --dp-item-list-height: 200px;
      }
      .row {
        height: 20px;
      }
    `,
  ];
  static override properties = { items: { attribute: false } };
  items: number[] = [];
  override render() {
    return itemList({ items: this.items, inPlaceMax: 3, label: 'VMs of the probe', key: (n) => n, render: (n) => html`<div class="row" role="listitem" data-n=${n}>VM ${n}</div>` });
  }
}
customElements.define('dp-item-list-probe', DpItemListProbe);

const list = (el: Element) => el.shadowRoot!.querySelector<HTMLElement>('[role=list]')!;

describe('itemList', () => {
  it('up to the limit: every item in place, in a box that ends with the last one', async () => {
    const el = await fixture<DpItemListProbe>(testHtml`<dp-item-list-probe .items=${[100, 101, 102]}></dp-item-list-probe>`);
    expect(list(el).tagName).to.equal('DIV');
    expect(list(el).getAttribute('aria-label')).to.equal('VMs of the probe');
    const rows = list(el).querySelectorAll('[role=listitem]');
    expect([...rows].map((r) => r.textContent)).to.deep.equal(['VM 100', 'VM 101', 'VM 102']);
    // Three 20 px rows and the 1 px borders: no blank box below them.
    expect(list(el).getBoundingClientRect().height).to.be.within(60, 63);
    await expect(el).to.be.accessible();
  });

  it('one more than the limit: the virtualizer, in the fixed-height box the view sets', async () => {
    const items = Array.from({ length: 50 }, (_, i) => 100 + i);
    const el = await fixture<DpItemListProbe>(testHtml`<dp-item-list-probe .items=${items}></dp-item-list-probe>`);
    expect(list(el).tagName).to.equal('LIT-VIRTUALIZER');
    expect(list(el).getAttribute('aria-label')).to.equal('VMs of the probe');
    expect(list(el).getBoundingClientRect().height).to.be.within(200, 203);
    expect((list(el) as HTMLElement & { items: number[] }).items).to.have.length(50);
  });

  it('a list that grows past the limit moves into the virtualizer', async () => {
    const el = await fixture<DpItemListProbe>(testHtml`<dp-item-list-probe .items=${[1, 2, 3]}></dp-item-list-probe>`);
    expect(list(el).tagName).to.equal('DIV');
    el.items = [1, 2, 3, 4];
    await el.updateComplete;
    expect(list(el).tagName).to.equal('LIT-VIRTUALIZER');
  });
});
