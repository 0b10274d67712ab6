// SPDX-License-Identifier: AGPL-3.0-or-later
// Reaching into the fleet view's shadow roots the way a user's eye would: rows in the
// virtualized grid, the open dialogs.
import type { DpFleetView } from '../../panel/views/dp-fleet-view.js';
import { waitUntil } from './wait-until.js';

export const root = (el: Element): ShadowRoot => el.shadowRoot!;
export const table = (el: DpFleetView) => root(el).querySelector('dp-fleet-table');
export const rows = (el: DpFleetView): HTMLElement[] => [...(table(el)?.shadowRoot?.querySelectorAll<HTMLElement>('.row[data-vmid]') ?? [])];
export const vmids = (el: DpFleetView): number[] =>
  rows(el)
    .sort((a, b) => Number(a.dataset['index']) - Number(b.dataset['index']))
    .map((r) => Number(r.dataset['vmid']));

/** Waits until the grid shows `n` rows (the virtualizer lays them out a frame later). */
export async function rowsShown(el: DpFleetView, n?: number): Promise<HTMLElement[]> {
  await waitUntil(() => table(el) && rows(el).length > 0 && (n === undefined || rows(el).length === n), `rows shown (${n ?? 'any'}; have ${rows(el).length})`);
  return rows(el);
}

export function row(el: DpFleetView, vmid: number): HTMLElement {
  const r = rows(el).find((x) => x.dataset['vmid'] === String(vmid));
  if (!r) throw new Error(`row of VM ${vmid} not shown (shown: ${vmids(el).join(', ')})`);
  return r;
}

export const filterEl = (el: DpFleetView) => root(el).querySelector('dp-fleet-filter')!;
export const preview = (el: DpFleetView) => root(el).querySelector('dp-plan-preview');
export const detail = (el: DpFleetView) => root(el).querySelector('dp-vm-detail');

/** Text of a node and every shadow root below it, as a reader sees it. */
export function deepText(node: Node): string {
  let out = '';
  const walk = (n: Node): void => {
    if (n.nodeType === Node.TEXT_NODE) out += n.textContent;
    const sr = (n as Element).shadowRoot;
    if (sr) walk(sr);
    for (const c of n.childNodes) walk(c);
  };
  walk(node);
  return out.replace(/\s+/g, ' ');
}
