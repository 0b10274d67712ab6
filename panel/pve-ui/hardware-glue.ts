// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Annotates PVE's VM Hardware view (pve-manager www/manager6/qemu/HardwareView.js, a
 * proxmox-widget-toolkit PendingObjectGrid): each value cell is rendered by the grid's
 * `renderValue`, taken from the prototype when the grid is built; the rows come from
 * `GET …/pending` through the grid's `rstore`, reloaded every few seconds.
 *
 * So: `initComponent` is wrapped to re-audit the VM whenever the loaded config changes (then the
 * view is refreshed), and `renderValue` to append the notes of `hardware-notes.ts` to a row that has
 * some. Fail-closed like the tab: any throw here leaves PVE's own cell as it was.
 */
import type { VmReport } from '../../src/analysis/types.js';
import type { GlueLog } from './glue.js';
import { TAB_ITEM_ID } from './glue.js';
import { type HardwareNotes, hardwareNotes } from './hardware-notes.js';

/** Reads and audits one VM (the core's analysis of its current config). */
export type VmReportLoader = (node: string, vmid: number) => Promise<VmReport | null>;

interface GridLike {
  pveSelNode?: { data?: { node?: unknown; vmid?: unknown } };
  rstore?: { on?: (event: string, fn: (...a: unknown[]) => void) => void; getData?: () => { items?: { data?: unknown }[] } };
  getView?: () => { refresh?: () => void } | undefined;
  isDestroyed?: boolean;
  destroyed?: boolean;
  up?: (selector?: string) => unknown;
  [DP]?: { loadedKey: string; notes: HardwareNotes | null };
}

const DP = Symbol.for('pve-dataplane.hardware');
const WRAPPED = Symbol.for('pve-dataplane.wrapped');

export interface HardwareViewClass {
  prototype: { initComponent?: unknown; renderValue?: unknown };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Icon colours of the notes: the cell is PVE's, light (crisp, white) or dark (proxmox-dark, hsl(0,0%,15%)),
 * and the markup cannot tell which; these keep 3:1 (WCAG 1.4.11) against both.
 */
const NOTE_ICON_COLOURS = { error: '#e0443a', warning: '#b87300' } as const;

/** The HTML appended to a cell: one line per note, and the hint's button on the scsihw row. */
export function notesHtml(lines: readonly string[], button: 'fix' | 'cold-start' | null, errors: readonly string[] = []): string {
  const body =
    errors.map((l) => `<div class="dp-hw-note dp-hw-error"><i class="fa fa-fw fa-times-circle" style="color:${NOTE_ICON_COLOURS.error}"></i> ${escapeHtml(l)}</div>`).join('') +
    lines.map((l) => `<div class="dp-hw-note"><i class="fa fa-fw fa-exclamation-triangle" style="color:${NOTE_ICON_COLOURS.warning}"></i> ${escapeHtml(l)}</div>`).join('');
  const html =
    button === 'fix'
      ? `<button type="button" class="dp-hw-fix" title="Open the Disk I/O tab with the plan for this VM">Show fix</button>`
      : button === 'cold-start'
        ? `<button type="button" class="dp-hw-fix" title="Open the Disk I/O tab: the change is written and runs after a cold start">Show cold start</button>`
        : '';
  return `<div class="dp-hw-notes" data-dp="hardware">${body}${html ? `<div> ${html}</div>` : ''}</div>`;
}

/** What the grid's store holds now, as one string: changes when the config (or pending) does. */
function loadedKey(grid: GridLike): string {
  const items = grid.rstore?.getData?.()?.items ?? [];
  return JSON.stringify(items.map((r) => r.data));
}

function alive(grid: GridLike): boolean {
  return !grid.isDestroyed && !grid.destroyed;
}

async function refresh(grid: GridLike, load: VmReportLoader, log: GlueLog): Promise<void> {
  const data = grid.pveSelNode?.data ?? {};
  const node = String(data.node ?? '');
  const vmid = Number(data.vmid);
  const key = loadedKey(grid);
  const state = (grid[DP] ??= { loadedKey: '', notes: null });
  if (!node || !Number.isInteger(vmid) || state.loadedKey === key) return;
  state.loadedKey = key;
  try {
    const vm = await load(node, vmid);
    if (!alive(grid) || state.loadedKey !== key) return;
    state.notes = vm ? hardwareNotes(vm) : null;
    grid.getView?.()?.refresh?.();
  } catch (err) {
    state.loadedKey = '';
    log(`Hardware view of VM ${vmid}: effective facts not shown`, err);
  }
}

/**
 * Wraps the Hardware view class. Idempotent; false when the class is not there.
 */
export function installHardwareNotes(cls: HardwareViewClass | undefined, load: VmReportLoader, log: GlueLog): boolean {
  const proto = cls?.prototype as (HardwareViewClass['prototype'] & Record<symbol, unknown>) | undefined;
  const init = proto?.initComponent;
  const render = proto?.renderValue;
  if (!proto || typeof init !== 'function' || typeof render !== 'function') return false;
  if ((init as unknown as Record<symbol, unknown>)[WRAPPED]) return true;

  const wrappedInit = function (this: GridLike, ...args: unknown[]): unknown {
    const result = (init as (...a: unknown[]) => unknown).apply(this, args);
    try {
      this.rstore?.on?.('load', () => void refresh(this, load, log));
    } catch (err) {
      log('Hardware view: not annotated', err);
    }
    return result;
  };
  const wrappedRender = function (this: GridLike, ...args: unknown[]): unknown {
    const html = (render as (...a: unknown[]) => unknown).apply(this, args);
    try {
      const notes = this[DP]?.notes;
      const key = (args[2] as { data?: { key?: unknown } } | undefined)?.data?.key;
      if (!notes || typeof key !== 'string' || typeof html !== 'string') return html;
      if (key === 'scsihw') return notes.scsihw ? html + notesHtml([notes.scsihw], notes.fixPending ? 'cold-start' : 'fix') : html;
      const lines = notes.disks.get(key) ?? [];
      const errors = notes.startErrors.get(key) ?? [];
      return lines.length > 0 || errors.length > 0 ? html + notesHtml(lines, null, errors) : html;
    } catch (err) {
      log('Hardware view: note not rendered', err);
      return html;
    }
  };
  for (const f of [wrappedInit, wrappedRender]) Object.defineProperty(f, WRAPPED, { value: true });
  proto.initComponent = wrappedInit;
  proto.renderValue = wrappedRender;
  return true;
}

/** ExtJS as far as the "Show fix" button needs it (6.2 and 7.0 both have these). */
interface ExtLike {
  Component?: { fromElement?: (el: Element) => { up?: (sel?: string) => unknown } | null };
}

/**
 * Handles clicks on "Show fix" buttons anywhere in the page: selects the Disk I/O tab of the
 * config panel the Hardware view sits in (the tab shows the plan for this VM).
 */
export function installFixButton(doc: Document, ext: () => ExtLike | undefined, log: GlueLog): void {
  doc.addEventListener('click', (ev) => {
    try {
      const button = (ev.target as Element | null)?.closest?.('button.dp-hw-fix');
      if (!button) return;
      ev.stopPropagation();
      let cmp = ext()?.Component?.fromElement?.(button) as { up?: (sel?: string) => unknown; selectById?: (id: string) => string; savedItems?: Record<string, unknown> } | null | undefined;
      while (cmp && !(cmp.savedItems && typeof cmp.selectById === 'function' && cmp.savedItems[TAB_ITEM_ID])) {
        cmp = cmp.up?.() as typeof cmp;
      }
      cmp?.selectById?.(TAB_ITEM_ID);
    } catch (err) {
      log('Show fix: could not open the Disk I/O tab', err);
    }
  }, true);
}
