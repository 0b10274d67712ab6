// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The browser's jobs (the Datacenter and Node tabs' bulk apply) against the simulator behind
// same-origin /api2/json (web-test-runner.config.mjs), plans and journals in this browser's IndexedDB.
import { expect, fixture, html } from '@open-wc/testing';
import { BrowserJobs, PAGE_CLOSED } from '../../panel/data/browser-jobs.js';
import type { JobEvent } from '../../panel/data/jobs.js';
import { IdbJournalStore } from '../../panel/data/idb-journal.js';
import { pveUiClient } from '../../panel/pve-ui/pve-client.js';
import { newRecord } from '../../src/jobs/record.js';
import type { JournalEntry } from '../../src/migration/journal-model.js';
import { login } from './harness.js';
import '../../panel/views/dp-job-progress.js';
import '../panel/themed.js';
import { THEMES } from '../panel/themed.js';
import { waitUntil } from '../panel/wait-until.js';

// Fleet seed 11. Other browser tests write to VMs 106, 109 and 111 and read 108 and 110; these
// tests take the other VMs the planner would write to, and roll them back.
const TAKEN = new Set([106, 108, 109, 110, 111]);

/** The JSONL download, one entry per line. */
const parseJournalLines = (text: string): JournalEntry[] => text.trimEnd().split('\n').map((l) => JSON.parse(l) as JournalEntry);

async function digestOf(node: string, vmid: number): Promise<string> {
  const res = await fetch(`/api2/json/nodes/${node}/qemu/${vmid}/config`);
  return ((await res.json()) as { data: { digest: string } }).data.digest;
}

/** The free VMs as the fleet view shows them (VMID and node). */
async function freeVms(): Promise<{ vmid: number; node: string }[]> {
  const res = await fetch('/api2/json/cluster/resources?type=vm');
  const { data } = (await res.json()) as { data: { vmid: number; node: string; type: string }[] };
  return data.filter((r) => r.type === 'qemu' && !TAKEN.has(r.vmid)).map((r) => ({ vmid: r.vmid, node: r.node }));
}

describe('bulk apply in the browser (BrowserJobs)', function () {
  this.timeout(90_000);
  let store: IdbJournalStore;
  before(async function () {
    this.timeout(60_000);
    await login('root@pam', 'simulator');
    store = await IdbJournalStore.open(`dp-jobs-test-${Date.now()}`);
  });
  after(() => store?.close());

  it('a job closed with its page is listed interrupted in the next one, Resume finishes it, and a rollback job restores every digest', async () => {
    const client = pveUiClient();
    const engine = { pollMs: 20 };
    const first = new BrowserJobs(client, store, { who: 'root@pam', engine });
    const saved = await first.createPlan({ vms: await freeVms(), aio: 'threads' });
    const writable = saved.plan.vms.filter((v) => v.eligible && v.changes.length > 0);
    expect(writable.length).to.be.greaterThan(1);
    const before = new Map(await Promise.all(writable.map(async (v) => [v.vmid, await digestOf(v.node!, v.vmid)] as const)));
    // The digests the plan carries are the ones read now: the plan applied is the plan previewed.
    for (const v of writable) expect(v.digest).to.equal(before.get(v.vmid));

    // The page that started the job closed before it ran: its record says running, no tab holds it.
    const vmids = writable.map((v) => v.vmid);
    await store.putJob(newRecord('j-closed-page', 'apply', { reboot: 'never' }, 'root@pam', { vmids, locked: vmids }, { planId: saved.id, source: null }, 2));

    const second = new BrowserJobs(client, store, { who: 'root@pam', engine });
    const listed = (await second.listJobs()).find((j) => j.id === 'j-closed-page')!;
    expect(listed.status).to.equal('interrupted');
    expect(listed.stopReason).to.equal(PAGE_CLOSED);
    expect(listed.counts.queued).to.equal(vmids.length);

    const events: JobEvent['type'][] = [];
    const ended = new Promise<void>((resolve) => {
      void second.resume('j-closed-page').then(() =>
        second.subscribe('j-closed-page', {
          onSnapshot: () => events.push('snapshot'),
          onVm: () => events.push('vm'),
          onJob: () => events.push('job'),
          onSummary: () => {
            events.push('summary');
            resolve();
          },
        }),
      );
    });
    await ended;
    expect(events[0]).to.equal('snapshot');
    expect(events.filter((e) => e === 'vm').length).to.be.greaterThan(vmids.length - 1);
    expect(events.at(-1)).to.equal('summary');
    const done = await second.getJob('j-closed-page');
    expect(done.status).to.equal('finished');
    for (const vm of done.vms) {
      expect(['written', 'verified']).to.include(vm.state);
      expect(vm.digestBefore).to.equal(before.get(vm.vmid));
      expect(await digestOf(vm.node!, vm.vmid)).to.equal(vm.digestAfter);
    }

    // The journal downloads as the CLI's JSONL: a run entry, an intent before each outcome, an end.
    const entries = parseJournalLines(await second.journalText('j-closed-page'));
    expect(entries[0]!.t).to.equal('run');
    expect(entries.at(-1)!.t).to.equal('end');

    // A second job on a VM of a running one is refused, naming the VM and the job.
    const rollback = await second.rollback('j-closed-page', { reboot: 'never' });
    expect(rollback.kind).to.equal('rollback');
    let refused = '';
    await second.rollback('j-closed-page', { reboot: 'never' }).catch((err: Error) => (refused = err.message));
    expect(refused).to.match(new RegExp(`^VM \\d+ is in running job ${rollback.id}`));
    await waitUntil(async () => (await second.getJob(rollback.id)).status === 'finished', 'rollback finished', { timeout: 60_000, interval: 100 });
    const back = await second.getJob(rollback.id);
    expect(back.vms.map((v) => v.state)).to.deep.equal(vmids.map(() => 'verified'));
    for (const v of writable) expect(await digestOf(v.node!, v.vmid)).to.equal(before.get(v.vmid));
    // Its journal follows the apply's, as `pve-dataplane rollback --journal` appends to it.
    const all = parseJournalLines(await second.journalText(rollback.id));
    expect(all.filter((e) => e.t === 'run').map((e) => e.t === 'run' && e.kind)).to.deep.equal(['apply', 'rollback']);
  });

  it('a tab of an earlier version holding the journals open (database version 1) is named, not waited for forever', async () => {
    const name = `dp-jobs-old-tab-${Date.now()}`;
    const old = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('journals', { keyPath: 'id' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    let refused = '';
    await IdbJournalStore.open(name).catch((err: Error) => (refused = err.message));
    expect(refused).to.contain('runs an earlier pve-dataplane');
    old.close();
    // Once that tab is gone, the upgrade goes through.
    const store = await IdbJournalStore.open(name);
    expect(await store.jobs()).to.deep.equal([]);
    store.close();
  });

  for (const theme of THEMES) {
    it(`an interrupted job offers Resume and the journal download, accessibly (axe, ${theme})`, async () => {
      const client = pveUiClient();
      const jobs = new BrowserJobs(client, store, { who: 'root@pam' });
      const id = `j-axe-${theme}`;
      const saved = await jobs.createPlan({ vms: (await freeVms()).slice(0, 1), aio: 'threads' });
      await store.putJob(newRecord(id, 'apply', { reboot: 'never' }, 'root@pam', { vmids: [saved.plan.vms[0]!.vmid], locked: [] }, { planId: saved.id, source: null }, 2));
      const fresh = new BrowserJobs(client, store, { who: 'root@pam' });
      const job = await fresh.getJob(id);
      const wrapper = await fixture<HTMLElement>(html`<dp-test-theme theme=${theme}><dp-job-progress .jobs=${fresh} .job=${job}></dp-job-progress></dp-test-theme>`);
      const el = wrapper.querySelector('dp-job-progress')!;
      await el.updateComplete;
      expect(el.shadowRoot!.querySelector('h2')!.textContent).to.contain('interrupted');
      expect(el.shadowRoot!.querySelector('button.resume')).to.not.equal(null);
      expect(el.shadowRoot!.querySelector('button.download')).to.not.equal(null);
      await expect(el).to.be.accessible();
    });
  }
});
