// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The glue between PVE's ExtJS web UI and the lit panel: adds a "Disk I/O" tab to the Datacenter,
 * Node and VM config panels. Fail-closed: whatever goes wrong here, PVE's own panels render as
 * if pve-dataplane were not installed.
 *
 * How PVE builds those panels (pve-manager www/manager6/panel/ConfigPanel.js `initComponent`,
 * dc/Config.js, node/Config.js, qemu/Config.js): each subclass fills `me.items` with plain config
 * objects (`{xtype, title, iconCls, itemId}`) and calls `callParent`; the base class turns them
 * into the tree menu, keeps them in `savedItems`, deletes `me.items` and creates a card only when
 * its entry is selected. So the tab is one more plain item, pushed just before the base class
 * reads the list: by wrapping `PVE.panel.Config.prototype.initComponent` (the subclasses'
 * `callParent` finds the wrapper there) and calling the original afterwards.
 *
 * NOTE: the wrapper never calls ExtJS `callParent` itself, and the bundle is a classic script
 * without 'use strict': `callParent` reads `Function.caller`, which strict code hides. An
 * `Ext.override(PVE.panel.Config, {initComponent(){… callParent …}})` is what blanked every config
 * panel for other add-ons; the plain wrapper is not.
 *
 * Only ExtJS API that both 6.2 (npm `extjs-gpl`, the tests) and 7.0 (what PVE ships) have is used:
 * `xtype: 'component'` with `html`, `scrollable`, and nothing else.
 */

/** itemId of the tab in every config panel (itemIds must be unique within a panel). */
export const TAB_ITEM_ID = 'dp-diskio';
export const TAB_TITLE = 'Disk I/O';

/** What a tab shows: the whole cluster, one node's VMs, or one VM. */
export type TabScope = { kind: 'cluster' } | { kind: 'node'; node: string } | { kind: 'vm'; node: string; vmid: number };

/** A constructor as ExtJS leaves it on the `PVE` namespace (instanceof works on it). */
type ExtClass = abstract new (...args: never[]) => unknown;

/** The part of the `PVE` namespace the glue reads. */
export interface PveNamespace {
  panel?: { Config?: ExtClass & { prototype: { initComponent?: unknown } } };
  dc?: { Config?: ExtClass };
  node?: { Config?: ExtClass };
  qemu?: { Config?: ExtClass };
}

/** A config panel while its `initComponent` runs (PVE's fields). */
interface ConfigPanelLike {
  items?: unknown;
  pveSelNode?: { data?: { node?: unknown; vmid?: unknown; template?: unknown } };
}

/** Where the glue reports what it skipped (never throws). */
export type GlueLog = (message: string, err?: unknown) => void;

const defaultLog: GlueLog = (message, err) => console.warn(`pve-dataplane: ${message}`, err ?? '');

/** Marks our wrapper, so loading the script twice wraps once. */
const WRAPPED = Symbol.for('pve-dataplane.wrapped');

/** The scope of `panel`, or null for every panel that gets no tab. */
export function scopeOf(panel: ConfigPanelLike, pve: PveNamespace): TabScope | null {
  const is = (cls: ExtClass | undefined): boolean => typeof cls === 'function' && panel instanceof cls;
  const data = panel.pveSelNode?.data ?? {};
  if (is(pve.dc?.Config)) return { kind: 'cluster' };
  const node = typeof data.node === 'string' && /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(data.node) ? data.node : null;
  if (is(pve.node?.Config)) return node ? { kind: 'node', node } : null;
  if (is(pve.qemu?.Config)) {
    const vmid = Number(data.vmid);
    return node && Number.isInteger(vmid) && vmid > 0 ? { kind: 'vm', node, vmid } : null;
  }
  return null;
}

/** The tab's host element, as HTML (attributes only: the element upgrades itself once in the DOM). */
export function hostHtml(scope: TabScope): string {
  const attrs = scope.kind === 'cluster' ? '' : scope.kind === 'node' ? ` node="${scope.node}"` : ` node="${scope.node}" vmid="${scope.vmid}"`;
  // `node` passed the node-name pattern in scopeOf and vmid is an integer: nothing to escape.
  return `<dp-pve-tab scope="${scope.kind}"${attrs}></dp-pve-tab>`;
}

/** The tab as PVE's config panels want an item: a plain, declarative config object. */
export function tabItem(scope: TabScope): Record<string, unknown> {
  return {
    xtype: 'component',
    itemId: TAB_ITEM_ID,
    title: TAB_TITLE,
    iconCls: 'fa fa-hdd-o',
    scrollable: true,
    cls: 'dp-pve-tab-host',
    html: hostHtml(scope),
  };
}

/** Index after which the tab goes: after "Summary" (or "Search") when present, else first. */
function insertAt(items: readonly unknown[]): number {
  const ids = items.map((i) => (i && typeof i === 'object' ? (i as { itemId?: unknown }).itemId : undefined));
  const summary = ids.indexOf('summary');
  return summary >= 0 ? summary + 1 : 0;
}

/**
 * Adds the tab to `panel.items` when `panel` is one of the three config panels and has no tab of
 * ours yet. Builds the item completely before the one `splice`, so a throw leaves `items` as it was.
 */
export function addTab(panel: ConfigPanelLike, pve: PveNamespace): boolean {
  const scope = scopeOf(panel, pve);
  if (!scope || !Array.isArray(panel.items)) return false;
  const items = panel.items as unknown[];
  if (items.some((i) => i && typeof i === 'object' && (i as { itemId?: unknown }).itemId === TAB_ITEM_ID)) return false;
  const item = tabItem(scope);
  items.splice(insertAt(items), 0, item);
  return true;
}

/**
 * Wraps `PVE.panel.Config.prototype.initComponent` so the three config panels get the tab.
 * Idempotent. Returns false (and changes nothing) when PVE's classes are not there.
 */
export function installConfigTabs(pve: PveNamespace | undefined, log: GlueLog = defaultLog): boolean {
  const proto = pve?.panel?.Config?.prototype as ({ initComponent?: unknown } & Record<symbol, unknown>) | undefined;
  const original = proto?.initComponent;
  if (!proto || typeof original !== 'function') {
    log('PVE.panel.Config not found: no Disk I/O tabs (is this the PVE web UI?)');
    return false;
  }
  if ((original as unknown as Record<symbol, unknown>)[WRAPPED]) return true;
  const wrapper = function (this: ConfigPanelLike, ...args: unknown[]): unknown {
    try {
      addTab(this, pve!);
    } catch (err) {
      log('Disk I/O tab not added', err);
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperty(wrapper, WRAPPED, { value: true });
  proto.initComponent = wrapper;
  return true;
}
