// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The glue inside a PVE-like page (npm ExtJS 6.2 + stand-in config panels and Hardware grid) against
// the simulator behind same-origin /api2/json (web-test-runner.config.mjs proxies it).
import { expect } from '@open-wc/testing';
import type { DpPveTab } from '../../panel/pve-ui/dp-pve-tab.js';
import { TAB_ITEM_ID } from '../../panel/pve-ui/glue.js';
import { type AnyExt, createConfig, destroy, loadPveUi, login, menuIds } from './harness.js';
import { waitUntil } from '../panel/wait-until.js';

let Ext: AnyExt;
let PVE: AnyExt;
const panels: AnyExt[] = [];

function open(cls: string, data: Record<string, unknown>): AnyExt {
  const p = createConfig(Ext, cls, data);
  panels.push(p);
  return p;
}

/** Shadow-piercing query: the first element matching `sel` under `root`. */
function deepQuery(root: ParentNode, sel: string): Element | null {
  if (root instanceof Element && root.shadowRoot) {
    const inner = deepQuery(root.shadowRoot, sel);
    if (inner) return inner;
  }
  const hit = root.querySelector(sel);
  if (hit) return hit;
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) {
      const inner = deepQuery(el.shadowRoot, sel);
      if (inner) return inner;
    }
  }
  return null;
}

before(async function () {
  // ExtJS (6 MB) and the simulator's first start (it starts with the first /api2 request).
  this.timeout(60_000);
  ({ Ext, PVE } = await loadPveUi());
  await login('root@pam', 'simulator');
});

afterEach(() => {
  while (panels.length) destroy(panels.pop());
});

describe('Disk I/O tab in the PVE config panels', function () {
  // The audit reads the simulated cluster through the proxied API: generous deadlines, not sleeps.
  this.timeout(60_000);
  it('appears exactly once in Datacenter, Node and VM, right after Summary, also in a second panel', () => {
    for (let round = 0; round < 2; round++) {
      const dc = open('PVE.dc.Config', {});
      const node = open('PVE.node.Config', { node: 'pve1' });
      const vm = open('PVE.qemu.Config', { node: 'pve1', vmid: 110 });
      for (const p of [dc, node, vm]) {
        const ids = menuIds(p);
        expect(ids.filter((id) => id === TAB_ITEM_ID)).to.have.length(1);
        expect(ids[ids.indexOf('summary') + 1]).to.equal(TAB_ITEM_ID);
        expect(p.savedItems[TAB_ITEM_ID].title).to.equal('Disk I/O');
      }
      // PVE's own tabs are all still there.
      expect(menuIds(dc)).to.include.members(['search', 'summary', 'options', 'storage']);
      expect(menuIds(vm)).to.include.members(['search', 'summary', 'hardware', 'options']);
    }
  });

  it('creates its card lazily, with the scope of the panel, and again after switching away', async () => {
    const node = open('PVE.node.Config', { node: 'pve1' });
    expect(node.getEl().dom.querySelector('dp-pve-tab')).to.equal(null);
    node.selectById(TAB_ITEM_ID);
    const tab = node.getEl().dom.querySelector('dp-pve-tab');
    expect(tab?.getAttribute('scope')).to.equal('node');
    expect(tab?.getAttribute('node')).to.equal('pve1');
    // The node tab lists that node's VMs only (the simulator has VMs on pve1 and pve2).
    const res = await fetch('/api2/json/cluster/resources?type=vm');
    const all = ((await res.json()) as { data: { vmid: number; node: string }[] }).data;
    const onPve1 = all.filter((v) => v.node === 'pve1').map((v) => String(v.vmid));
    expect(onPve1.length).to.be.greaterThan(0).and.lessThan(all.length);
    await waitUntil(() => deepQuery(tab!, 'dp-fleet-table')?.shadowRoot?.querySelector('.row[data-vmid]'), 'fleet rows', { timeout: 20_000 });
    const table = deepQuery(tab!, 'dp-fleet-table')!;
    const shown = [...table.shadowRoot!.querySelectorAll('.row[data-vmid]')].map((r) => r.getAttribute('data-vmid')!);
    expect(shown.length).to.be.greaterThan(0);
    expect(shown.every((id) => onPve1.includes(id)), `rows ${shown} of pve1 ${onPve1}`).to.equal(true);
    // Every VM of pve1 and no other, once the load finished ("8 of 8 VMs shown").
    await waitUntil(() => deepQuery(tab!, 'span.count')?.textContent?.includes(`${onPve1.length} of ${onPve1.length} VMs`), 'count of pve1', { timeout: 20_000 });
    node.selectById('summary');
    expect(node.getEl().dom.querySelector('dp-pve-tab')).to.equal(null);
    node.selectById(TAB_ITEM_ID);
    expect(node.getEl().dom.querySelector('dp-pve-tab[scope=node]')).to.not.equal(null);

    const vm = open('PVE.qemu.Config', { node: 'pve1', vmid: 108 });
    vm.selectById(TAB_ITEM_ID);
    const vmTab = vm.getEl().dom.querySelector('dp-pve-tab');
    expect([vmTab?.getAttribute('scope'), vmTab?.getAttribute('vmid')]).to.deep.equal(['vm', '108']);
  });

  it('a throw in the glue leaves PVE’s panels intact (no tab, every PVE tab renders)', () => {
    const warned: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warned.push(a);
    // The glue asks `panel instanceof PVE.dc.Config`: make that throw, as any bug in it would.
    Object.defineProperty(PVE.dc.Config, Symbol.hasInstance, {
      configurable: true,
      value: () => {
        throw new Error('boom in the glue');
      },
    });
    try {
      const dc = open('PVE.dc.Config', {});
      expect(menuIds(dc)).to.deep.equal(['search', 'summary', 'options', 'storage']);
      expect(dc.getEl().dom.textContent).to.contain('search');
      for (const id of ['summary', 'options', 'storage']) {
        dc.selectById(id);
        expect(dc.getLayout().getActiveItem().itemId).to.equal(id);
      }
      expect(warned.some((a) => String(a[0]).includes('Disk I/O tab not added'))).to.equal(true);
    } finally {
      delete (PVE.dc.Config as Record<symbol, unknown>)[Symbol.hasInstance];
      console.warn = warn;
    }
    // And without the fault the tab is back.
    expect(menuIds(open('PVE.dc.Config', {}))).to.include(TAB_ITEM_ID);
  });
});

describe('PVE Hardware view annotations', function () {
  this.timeout(60_000);
  /** The Hardware grid of VM `vmid`, once its rows and our notes are rendered. */
  async function hardware(vmid: number, node = 'pve1'): Promise<{ grid: AnyExt; panel: AnyExt }> {
    const panel = open('PVE.qemu.Config', { node, vmid });
    panel.selectById('hardware');
    const grid = panel.down('#hardware');
    await waitUntil(() => grid.getStore().getCount() > 0, 'hardware rows', { timeout: 20_000 });
    return { grid, panel };
  }

  async function config(node: string, vmid: number): Promise<Record<string, string>> {
    const res = await fetch(`/api2/json/nodes/${node}/qemu/${vmid}/config`);
    return ((await res.json()) as { data: Record<string, string> }).data;
  }

  it('notes the effective facts on a disk where config and effect differ, and offers the fix on the SCSI Controller row', async () => {
    // Precondition from the simulated fleet (seed 11): VM 108 has iothread=1 on VirtIO SCSI (not
    // single) and its scsi0 on LVM with no aio set.
    const conf = await config('pve1', 108);
    expect(conf['scsihw'], 'fleet precondition').to.equal('virtio-scsi-pci');
    expect(conf['scsi0'], 'fleet precondition').to.match(/iothread=1/).and.not.match(/aio=/);
    const { grid, panel } = await hardware(108);
    await waitUntil(() => grid.getEl().dom.querySelector('.dp-hw-note'), 'notes', { timeout: 20_000 });
    const cells = new Map<string, string>();
    grid.getStore().each((rec: AnyExt) => void cells.set(rec.get('key'), (grid.getView().getNode(rec) as HTMLElement).textContent ?? ''));
    // The words of the core's renderer (src/present), as the CLI's table has them.
    expect(cells.get('scsi0')).to.contain('IO thread: iothread=1 (ignored: scsihw virtio-scsi-pci)');
    expect(cells.get('scsi0')).to.contain('Async IO: default → native (lvm)');
    expect(cells.get('scsihw')).to.contain('VirtIO SCSI');
    expect(cells.get('scsihw')).to.contain('iothread=1 ignored: scsihw virtio-scsi-pci (1 disk)');
    // Rows whose config tells the truth carry nothing.
    expect(cells.get('ide2')).to.not.contain('IO thread');
    expect(cells.get('memory') ?? '').to.not.contain('Async IO');
    // "Show fix" opens this VM's Disk I/O tab, which shows the plan.
    (grid.getEl().dom.querySelector('button.dp-hw-fix') as HTMLButtonElement).click();
    expect(panel.getLayout().getActiveItem().itemId).to.equal(TAB_ITEM_ID);
    const tab = panel.getEl().dom.querySelector('dp-pve-tab[scope=vm][vmid="108"]');
    await waitUntil(() => deepQuery(tab!, 'dp-plan-preview'), 'plan preview', { timeout: 20_000 });
    const preview = deepQuery(tab!, 'dp-plan-preview')!;
    // The plan is part of the tab (below the VM's disks): its list renders the rows in view.
    preview.scrollIntoView();
    await waitUntil(() => preview.shadowRoot?.querySelector('.vm[data-vmid="108"] dp-pending-value'), 'plan of VM 108', { timeout: 20_000 });
    const proposed = [...preview.shadowRoot!.querySelectorAll('.vm[data-vmid="108"] dp-pending-value')].map((p) => p.shadowRoot!.textContent);
    expect(proposed.join(' ')).to.contain('virtio-scsi-single');
  });

  it('shows nothing where config and effect agree', async () => {
    // VM 110: virtio-scsi-single, scsi0 iothread=1, aio=threads on LVM (fleet seed 11).
    const conf = await config('pve1', 110);
    expect(conf['scsihw'], 'fleet precondition').to.equal('virtio-scsi-single');
    expect(conf['scsi0'], 'fleet precondition').to.match(/aio=threads/).and.match(/iothread=1/);
    const { grid } = await hardware(110);
    // Wait until the audit of this VM came back (the loaded-config key is recorded), then render.
    await waitUntil(() => (grid as Record<symbol, { notes: unknown } | undefined>)[Symbol.for('pve-dataplane.hardware')]?.notes, 'audit of VM 110', { timeout: 20_000 });
    grid.getView().refresh();
    expect(grid.getEl().dom.querySelector('.dp-hw-note')).to.equal(null);
    expect(grid.getEl().dom.querySelector('button.dp-hw-fix')).to.equal(null);
    expect(grid.getEl().dom.textContent).to.contain('VirtIO SCSI single');
  });
});

describe('privileges', function () {
  this.timeout(60_000);
  after(async () => {
    await login('root@pam', 'simulator');
  });

  const fleetPart = (tab: Element, sel: string) => deepQuery(tab, 'dp-fleet-view')?.shadowRoot?.querySelector(sel) ?? null;

  it('the Datacenter tab offers bulk apply (Past Runs) to root, and no write control to an auditor', async () => {
    const fleetTab = async () => {
      const dc = open('PVE.dc.Config', {});
      dc.selectById(TAB_ITEM_ID);
      const tab = dc.getEl().dom.querySelector('dp-pve-tab')!;
      await waitUntil(() => /VMs shown$/.test(fleetPart(tab, '.count')?.textContent ?? ''), 'fleet read', { timeout: 20_000 });
      return tab;
    };
    const root = await fleetTab();
    await waitUntil(() => fleetPart(root, 'button.runs'), 'Past Runs offered', { timeout: 10_000 });
    destroy(panels.pop());
    await login('audit@pve', 'audit');
    const audit = await fleetTab();
    // The privileges are read with the journals store: once both are, still no write control.
    await waitUntil(() => (audit as DpPveTab).jobs !== null, 'jobs ready', { timeout: 10_000 });
    await (audit as DpPveTab).updateComplete;
    expect(fleetPart(audit, 'button.runs')).to.equal(null);
  });

  it('a VM tab taken off the page stops its read (another VM picked in the tree mid-read); put back, it reads again', async () => {
    const signals: AbortSignal[] = [];
    const tab = document.createElement('dp-pve-tab') as DpPveTab;
    Object.assign(tab, {
      scope: 'vm',
      node: 'pve1',
      vmid: 108,
      loader: (signal: AbortSignal) => {
        signals.push(signal);
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    });
    document.body.append(tab);
    try {
      await waitUntil(() => signals.length === 1, 'the VM is read');
      tab.remove();
      expect(signals[0]!.aborted).to.equal(true);
      document.body.append(tab);
      await waitUntil(() => signals.length === 2, 'the read starts again');
      expect(signals[1]!.aborted).to.equal(false);
    } finally {
      tab.remove();
    }
  });

  it('an auditor (PVEAuditor-like: VM.Audit + Datastore.Audit) sees the facts and no write control', async () => {
    await login('audit@pve', 'audit');
    const vm = open('PVE.qemu.Config', { node: 'pve1', vmid: 108 });
    vm.selectById(TAB_ITEM_ID);
    const tab = vm.getEl().dom.querySelector('dp-pve-tab')!;
    await waitUntil(() => deepQuery(tab, 'dp-plan-preview')?.shadowRoot?.querySelector('.read-only'), 'read-only plan', { timeout: 20_000 });
    const pveVm = deepQuery(tab, 'dp-pve-vm')!;
    expect(pveVm.shadowRoot!.querySelector('dp-alert.read-only')!.textContent).to.contain('VM.Config.Disk and VM.Config.HWType');
    const preview = deepQuery(tab, 'dp-plan-preview')!;
    expect(preview.shadowRoot!.querySelector('button.apply, button.yes, input[name=reboot]')).to.equal(null);
    expect(preview.shadowRoot!.querySelector('pre')).to.equal(null);
    expect(deepQuery(tab, 'dp-job-progress')).to.equal(null);
    // The facts are all there.
    expect(deepQuery(tab, 'dp-vm-detail')!.shadowRoot!.textContent).to.contain('scsi0');
  });
});
