// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The VM detail says what QEMU really gets for the cache, in the words of the one fact renderer
// (src/present), never PVE's "Default (No cache)" label for a drive that is not O_DIRECT.
import { expect, fixture, html } from '@open-wc/testing';
import { analyzeVm, buildAuditReport, vmInputFromFile } from '../../src/audit/index.js';
import { parseStorageCfg } from '../../src/pve/storage-cfg.js';
import { parseVmConfig } from '../../src/pve/vm-config-parse.js';
import { fleetRow } from '../../panel/data/fleet-query.js';
import type { DpVmDetail } from '../../panel/views/dp-vm-detail.js';
import '../../panel/views/dp-vm-detail.js';
import { deepText } from './view-helpers.js';

const STORAGE = 'dir: local\n\tpath /var/lib/vz\n\tcontent iso,images\n\nbtrfs: tank\n\tpath /mnt/tank\n\tcontent images\n';
const CONFIG = [
  'ide2: local:iso/debian.iso,media=cdrom,size=600M',
  'scsi0: tank:100/vm-100-disk-0.raw,size=8G',
  'scsi1: local:100/vm-100-disk-1.raw,size=8G',
  'scsi2: local:100/vm-100-disk-2.raw,cache=writeback,size=8G',
  '',
].join('\n');

async function detailOf(text: string) {
  const input = vmInputFromFile(parseVmConfig(text, { vmid: 100, source: '100.conf' }), 'pve1');
  const vm = analyzeVm(input, { storages: parseStorageCfg(STORAGE).storages, installedQemu: [10, 1, 0], installedQemuAssumed: false });
  const el = await fixture<DpVmDetail>(html`<dp-vm-detail .row=${fleetRow(vm, input)}></dp-vm-detail>`);
  await el.updateComplete;
  const cells = new Map<string, string>();
  for (const tr of el.shadowRoot!.querySelectorAll('tbody tr')) {
    const key = /\((\w+)\)/.exec(tr.querySelector('th')!.textContent!)![1]!;
    const tds = tr.querySelectorAll('td');
    cells.set(key, deepText(tds[tds.length - 1]!).trim());
  }
  return cells;
}

describe('dp-vm-detail cache column', () => {
  it('a CD-ROM and a btrfs disk with cache unset are not called "No cache": their cache is not O_DIRECT', async () => {
    const cache = await detailOf(CONFIG);
    expect(cache.get('ide2')).to.equal('default → not direct (cdrom)');
    expect(cache.get('scsi0')).to.equal('default → not direct (btrfs without nocow)');
    for (const text of cache.values()) expect(text).not.to.contain('No cache');
  });

  it('says the same as the CLI for a plain disk and an explicit cache mode', async () => {
    const cache = await detailOf(CONFIG);
    expect(cache.get('scsi1')).to.equal('direct (default)');
    expect(cache.get('scsi2')).to.equal('not direct (writeback)');
  });
});

describe('dp-vm-detail risk evidence', () => {
  it('an ignored IO thread reads "scsi0.iothread (configured) 1" and "(runs) false", not the same label twice', async () => {
    const text = ['scsihw: virtio-scsi-pci', 'scsi0: local:100/vm-100-disk-0.raw,iothread=1,size=8G', ''].join('\n');
    const input = vmInputFromFile(parseVmConfig(text, { vmid: 100, source: '100.conf' }), 'pve1');
    const vm = buildAuditReport([input], { storages: parseStorageCfg(STORAGE).storages, installedQemu: [10, 1, 0], installedQemuAssumed: false }).vms[0]!;
    const el = await fixture<DpVmDetail>(html`<dp-vm-detail .row=${fleetRow(vm, input)}></dp-vm-detail>`);
    await el.updateComplete;
    const ignored = [...el.shadowRoot!.querySelectorAll('li.reason')].find((li) => li.textContent!.includes('IOTHREAD_IGNORED'))!;
    const pairs = [...ignored.querySelectorAll('dt')].map((dt) => `${dt.textContent} = ${dt.nextElementSibling!.textContent}`);
    expect(pairs).to.include.members(['scsi0.iothread (configured) = 1', 'scsi0.iothread (runs) = false']);
  });
});
