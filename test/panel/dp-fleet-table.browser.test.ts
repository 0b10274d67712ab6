// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The fleet grid at fleet size: only the rows in view are in the DOM, each row as tall as its
// lines (a VM with many disks too), keyboard and screen-reader positions across the window.
import { expect, fixture, html } from '@open-wc/testing';
import type { DpFleetTable } from '../../panel/views/dp-fleet-table.js';
import '../../panel/views/dp-fleet-table.js';
import { type FleetRow, fleetRow } from '../../panel/data/fleet-query.js';
import { fleetAudit } from './fleet-fixture.js';
import { waitUntil } from './wait-until.js';

const MANY_DISKS = Array.from({ length: 12 }, (_, i) => `scsi${i}: local-lvm:vm-900-disk-${i},iothread=1,size=8G\n`).join('');
const audit = fleetAudit(undefined, [{ vmid: 900, node: 'pve1', status: 'running', text: `name: many-disks\nostype: l26\n${MANY_DISKS}` }]);
const inputs = new Map(audit.inputs.map((i) => [i.vmid, i]));
const base = audit.report.vms.map((vm) => fleetRow(vm, inputs.get(vm.vmid)));
/** 3,000 rows: the fixture's VMs again and again under other VMIDs; the many-disk VM is row 1,500. */
const ROWS: FleetRow[] = Array.from({ length: 3000 }, (_, i) => {
  const src = i === 1500 ? base[base.length - 1]! : base[i % (base.length - 1)]!;
  return { ...src, vm: { ...src.vm, vmid: 10_000 + i } };
});

const rowEls = (t: DpFleetTable) =>
  [...t.shadowRoot!.querySelectorAll<HTMLElement>('.row[data-index]')].sort((a, b) => Number(a.dataset['index']) - Number(b.dataset['index']));
const body = (t: DpFleetTable) => t.shadowRoot!.querySelector<HTMLElement>('[role=rowgroup]')!;
const frame = () => new Promise((r) => requestAnimationFrame(r));

async function grid(height = '400px'): Promise<DpFleetTable> {
  const t = await fixture<DpFleetTable>(html`<dp-fleet-table style=${`--dp-table-height: ${height}`} .rows=${ROWS}></dp-fleet-table>`);
  await waitUntil(() => rowEls(t).length > 0, 'rows rendered');
  return t;
}

/** The rows rendered cover the scroller's view from top to bottom. */
function covers(t: DpFleetTable): boolean {
  const view = body(t).getBoundingClientRect();
  const rects = rowEls(t).map((r) => r.getBoundingClientRect());
  return rects.length > 0 && rects[0]!.top <= view.top + 1 && rects[rects.length - 1]!.bottom >= view.bottom - 1;
}

describe('dp-fleet-table windowing', () => {
  it('3,000 VMs: only the rows near the view are in the DOM, stacked without gap or overlap, and they cover the view', async () => {
    const t = await grid();
    const rows = rowEls(t);
    expect(rows.length).to.be.greaterThan(5).and.lessThan(60);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.getBoundingClientRect().top).to.equal(rows[i - 1]!.getBoundingClientRect().bottom);
    expect(covers(t)).to.equal(true);
    expect(t.shadowRoot!.querySelector('[role=grid]')!.getAttribute('aria-rowcount')).to.equal('3001');
  });

  it('a VM with 12 disks gets a row tall enough for every disk and its ⚑ mark, none clipped', async () => {
    const t = await grid();
    await t.focusRow(10_000 + 1500);
    await waitUntil(() => t.shadowRoot!.querySelector('.row[data-vmid="11500"]'), 'the many-disk row');
    const row = t.shadowRoot!.querySelector<HTMLElement>('.row[data-vmid="11500"]')!;
    const box = row.getBoundingClientRect();
    const lines = [...row.querySelectorAll<HTMLElement>('.dl')];
    // 12 disks, each with "iothread configured on, runs off" (lsi ignores iothread=1).
    expect(lines.filter((l) => l.classList.contains('mark'))).to.have.length(12);
    expect(lines).to.have.length(24);
    for (const l of lines) expect(l.getBoundingClientRect().bottom).to.be.at.most(box.bottom);
    expect(box.height).to.be.greaterThan(24 * 16);
    const next = t.shadowRoot!.querySelector<HTMLElement>('.row[data-vmid="11501"]');
    if (next) expect(next.getBoundingClientRect().top).to.equal(box.bottom);
  });

  it('scrolled to the end, the last VM is shown with its position (aria-rowindex) and the first is gone', async () => {
    const t = await grid();
    body(t).scrollTop = body(t).scrollHeight;
    await waitUntil(() => t.shadowRoot!.querySelector('.row[data-vmid="12999"]'), 'last row');
    await frame();
    expect(t.shadowRoot!.querySelector('.row[data-vmid="12999"]')!.getAttribute('aria-rowindex')).to.equal('3001');
    expect(t.shadowRoot!.querySelector('.row[data-vmid="10000"]')).to.equal(null);
    expect(covers(t)).to.equal(true);
  });

  it('↓ past the last rendered row focuses the next VM (rendered and scrolled to); Ctrl+End the last VM', async () => {
    const t = await grid();
    const rows = rowEls(t);
    const last = rows[rows.length - 1]!;
    const index = Number(last.dataset['index']);
    last.querySelector<HTMLElement>('button.open')!.focus();
    last.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true, composed: true }));
    await waitUntil(() => (t.shadowRoot!.activeElement as HTMLElement | null)?.closest<HTMLElement>('.row')?.dataset['index'] === String(index + 1), 'next row focused');
    const focused = t.shadowRoot!.activeElement!.closest<HTMLElement>('.row')!.getBoundingClientRect();
    const view = body(t).getBoundingClientRect();
    expect(focused.top).to.be.at.least(view.top - 1);
    expect(focused.bottom).to.be.at.most(view.bottom + 1);
    t.shadowRoot!.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', ctrlKey: true, bubbles: true, composed: true }));
    await waitUntil(() => (t.shadowRoot!.activeElement as HTMLElement | null)?.closest<HTMLElement>('.row')?.dataset['vmid'] === '12999', 'last VM focused');
  });

  it('a panel resized taller (PVE resizing the tab) fills with rows, without a ResizeObserver loop error', async () => {
    const errors: string[] = [];
    const onError = (e: ErrorEvent) => errors.push(e.message);
    window.addEventListener('error', onError);
    try {
      const t = await grid('200px');
      for (const h of ['900px', '300px', '1400px']) {
        t.style.setProperty('--dp-table-height', h);
        await waitUntil(() => covers(t), `rows cover ${h}`);
      }
      await frame();
      await frame();
      expect(errors).to.deep.equal([]);
    } finally {
      window.removeEventListener('error', onError);
    }
  });

  it('new rows (a keystroke) render the rows in view at once and the rows beyond it after that frame', async () => {
    const t = await grid();
    await frame();
    t.rows = ROWS.slice(1, 2001);
    await t.updateComplete;
    const bottom = () => body(t).getBoundingClientRect().bottom;
    expect(covers(t)).to.equal(true);
    const beyond = () => rowEls(t).filter((r) => r.getBoundingClientRect().top >= bottom()).length;
    expect(beyond()).to.equal(0);
    await waitUntil(() => beyond() > 0, 'the overhang below the view');
    expect(covers(t)).to.equal(true);
  });

  it('a filter that shortens the list while scrolled far down shows the rows of the clamped position, not a blank grid', async () => {
    const t = await grid();
    body(t).scrollTop = 40_000;
    await frame();
    t.rows = ROWS.slice(0, 20);
    await t.updateComplete;
    expect(rowEls(t).map((r) => r.dataset['vmid'])).to.include('10019');
    await waitUntil(() => covers(t), 'rows cover the view');
  });
});

describe('dp-fleet-table in a narrow pane', () => {
  it("narrower than its columns (PVE's content pane on a laptop), it scrolls sideways and the Disks column is reachable, not cut off", async () => {
    const t = await fixture<DpFleetTable>(html`<dp-fleet-table style="width: 480px; --dp-table-height: 300px" .rows=${ROWS}></dp-fleet-table>`);
    await waitUntil(() => rowEls(t).length > 0, 'rows rendered');
    expect(t.scrollWidth).to.be.greaterThan(t.clientWidth);
    t.scrollLeft = t.scrollWidth;
    await frame();
    const disks = [...t.shadowRoot!.querySelectorAll<HTMLElement>('[role=columnheader]')].at(-1)!;
    const host = t.getBoundingClientRect();
    expect(disks.textContent).to.contain('Disks');
    expect(disks.getBoundingClientRect().left).to.be.greaterThanOrEqual(host.left);
    expect(disks.getBoundingClientRect().right).to.be.lessThanOrEqual(host.right + 1);
    // The rows scrolled with the head: the first row's disk cell sits under the Disks header.
    const cell = rowEls(t)[0]!.lastElementChild!.getBoundingClientRect();
    expect(Math.abs(cell.left - disks.getBoundingClientRect().left)).to.be.lessThan(2);
  });
});

