// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A list of VMs (a plan's, a job's) that is listed in place while short and goes through
 * lit-virtualizer once long. The virtualizer needs a fixed height: a short list in it would sit in
 * a mostly blank box (one VM's plan, a one-VM job), so up to `inPlaceMax` items are plain
 * children, in a box that ends with its last item. A template, not an element: the items stay in
 * the view's shadow root and keep its styles.
 */
import '@lit-labs/virtualizer';
import { type TemplateResult, css, html } from 'lit';

export interface ItemListOptions<T> {
  items: readonly T[];
  /** Up to this many items are listed in place; more go through the virtualizer. */
  inPlaceMax: number;
  /** The list's accessible name. */
  label: string;
  /** A stable key per item (the virtualizer reuses rows by it). */
  key: (item: T) => unknown;
  /** One item; its root carries `role="listitem"`. */
  render: (item: T) => TemplateResult;
}

/** `<div role="list">` with the items, or a `<lit-virtualizer role="list">` over them; style with `itemListStyles`. */
export function itemList<T>(o: ItemListOptions<T>): TemplateResult {
  if (o.items.length <= o.inPlaceMax) {
    return html`<div class="item-list in-place" role="list" aria-label=${o.label}>${o.items.map((item) => o.render(item))}</div>`;
  }
  return html`<lit-virtualizer
    class="item-list"
    scroller
    tabindex="0"
    role="list"
    aria-label=${o.label}
    .items=${o.items as T[]}
    .keyFunction=${o.key}
    .renderItem=${o.render}
  ></lit-virtualizer>`;
}

/** The box of both forms; the virtualizer's height is `--dp-item-list-height` (set it on the view's host). */
export const itemListStyles = css`
  .item-list {
    border: 1px solid var(--dp-border);
  }
  lit-virtualizer.item-list {
    height: var(--dp-item-list-height, min(30vh, 260px));
  }
`;
