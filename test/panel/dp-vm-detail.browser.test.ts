// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The VM detail says what QEMU really gets for the cache, in the words of the one fact renderer
// (src/present), never PVE's "Default (No cache)" label for a drive that is not O_DIRECT.
import { expect, fixture, html } from '@open-wc/testing';
import { analyzeVm, vmInputFromFile } from '../../src/audit/index.js';
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
