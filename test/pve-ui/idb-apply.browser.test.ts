// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The in-browser engine run on the user's session against the simulator (same-origin /api2 through
// web-test-runner.config.mjs), its journal in this browser's IndexedDB.
import { expect } from '@open-wc/testing';
import { loadFleetAudit } from '../../panel/data/fleet-audit.js';
import { CANCELLED, journalProgress, runJournal } from '../../panel/data/idb-apply.js';
import { IdbJournalStore, journalJsonl } from '../../panel/data/idb-journal.js';
import { planSelected } from '../../panel/data/plan.js';
import { pveUiClient } from '../../panel/pve-ui/pve-client.js';
import { unfinishedRun } from '../../src/migration/journal-model.js';
import { login } from './harness.js';

// Fleet seed 11: running VMs 106 (pve1), 109 (pve2), 111 (pve1) plan to one write each. The other
// pve-ui tests read VMs 108 and 110 only.
const VMIDS = [106, 109, 111];

describe('apply in the browser, journal in IndexedDB', function () {
  this.timeout(60_000);
  let store: IdbJournalStore;
  before(async function () {
    this.timeout(60_000);
    await login('root@pam', 'simulator');
    store = await IdbJournalStore.open(`dp-test-${Date.now()}`);
  });
  after(() => store?.close());

  it('Cancel lets the VMs in flight finish and starts no other; the journal ends and reads back as JSONL', async () => {
    const client = pveUiClient();
    const audit = await loadFleetAudit(client, { vmids: VMIDS });
    const plan = planSelected(audit, new Set(VMIDS));
    expect(plan.vms.filter((v) => v.eligible).map((v) => v.vmid).sort()).to.deep.equal(VMIDS);
    const meta = await store.create({ plan, vmids: VMIDS, reboot: 'never', perNode: 1, user: 'root@pam' });
    let inFlight: number[] | null = null;
    const started: number[] = [];
    const summary = await runJournal(client, store, meta, { kind: 'apply', reboot: 'never' }, {
      // The user presses Cancel when the first VM is done (two run at once: the other is in flight).
      onEvent: (e) => {
        if (e.type === 'vm-step' && !started.includes(e.vmid)) started.push(e.vmid);
        if (e.type === 'vm-done' && !inFlight) inFlight = [...started];
      },
      cancelled: () => inFlight !== null,
    });
    const skipped = summary.results.filter((r) => r.reason === CANCELLED).map((r) => r.vmid);
    const done = summary.results.filter((r) => r.reason !== CANCELLED);
    expect(inFlight).to.have.length(2);
    expect(done.map((r) => r.vmid).sort()).to.deep.equal([...inFlight!].sort());
    expect(skipped).to.deep.equal(VMIDS.filter((id) => !inFlight!.includes(id)));
    expect(done.map((r) => r.result)).to.deep.equal(['pending-reboot', 'pending-reboot']);
    // The cancelled VM's config was not touched: its digest is still the previewed one.
    const res = await fetch(`/api2/json/nodes/${plan.vms.find((v) => v.vmid === skipped[0])!.node}/qemu/${skipped[0]}/config`);
    const { data } = (await res.json()) as { data: { digest: string } };
    expect(data.digest).to.equal(plan.vms.find((v) => v.vmid === skipped[0])!.digest);

    const entries = await store.entries(meta.id);
    expect(entries[0]!.t).to.equal('run');
    expect(entries.at(-1)!.t).to.equal('end');
    expect(unfinishedRun(entries)).to.equal(null);
    // Each write's intent is in the journal before its outcome.
    for (const vmid of done.map((r) => r.vmid)) {
      const i = entries.findIndex((e) => e.t === 'write' && e.vmid === vmid);
      const o = entries.findIndex((e) => e.t === 'write-done' && e.vmid === vmid);
      expect(i).to.be.greaterThan(-1);
      expect(o).to.be.greaterThan(i);
    }
    const lines = journalJsonl(entries).trimEnd().split('\n');
    // One entry per line, as src/node/journal.ts writes them (undefined fields dropped, as there).
    expect(lines.map((l) => JSON.parse(l))).to.deep.equal(JSON.parse(JSON.stringify(entries)));
    const rows = journalProgress(meta, entries);
    expect(rows.find((r) => r.vmid === skipped[0])!.detail).to.equal(CANCELLED);

    // Rollback of what was written, from the same journal: the two VMs get their previous values back.
    const back = await runJournal(client, store, meta, { kind: 'rollback', reboot: 'never' });
    expect(back.results.map((r) => r.vmid).sort()).to.deep.equal(done.map((r) => r.vmid).sort());
    expect(back.results.every((r) => r.result === 'restored')).to.equal(true);
  });
});
