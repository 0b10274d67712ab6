// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The fleet audit in a Worker (panel/data/fleet-audit-remote.ts, fleet-audit-worker.ts) against the
// simulator behind same-origin /api2/json (web-test-runner.config.mjs proxies it; the browser's
// PVEAuthCookie authenticates, as inside PVE): the same audit as on the page, handed to the views
// the same way, abortable, and on the page where the worker cannot start.
import { expect } from '@open-wc/testing';
import type { VmReport } from '../../src/analysis/types.js';
import { PveClient } from '../../src/api/client.js';
import { fetchTransport } from '../../src/api/fetch-transport.js';
import { type FleetAudit, type FleetWorkerSpec, auditInWorker, loadFleetAudit } from '../../panel/data/fleet-audit.js';
import { login } from '../pve-ui/harness.js';
import { waitUntil } from './wait-until.js';

let csrf = '';
before(async function () {
  // The simulator starts with the first /api2 request.
  this.timeout(60_000);
  ({ csrf } = await login('root@pam', 'simulator'));
});

const pageClient = (): PveClient => new PveClient({ baseUrl: '', auth: { kind: 'same-origin', csrfToken: () => csrf }, concurrency: 4, transport: fetchTransport() });

/** Workers started, and whether each was ended. */
function workerSpec(url = new URL('../../panel/data/fleet-audit-worker.ts', import.meta.url)): FleetWorkerSpec & { started: Worker[]; ended: Worker[] } {
  const spec = {
    started: [] as Worker[],
    ended: [] as Worker[],
    start: () => {
      const w = new Worker(url, { type: 'module' });
      const terminate = w.terminate.bind(w);
      w.terminate = () => {
        spec.ended.push(w);
        terminate();
      };
      spec.started.push(w);
      return w;
    },
    csrfToken: () => csrf,
  };
  return spec;
}

/** `/pending` requests this page itself sent so far (a worker's are in its own timeline). */
const pagePendingRequests = (): number => performance.getEntriesByType('resource').filter((e) => /\/api2\/json\/.*\/pending$/.test(e.name)).length;

/** The count once the page's timeline has every entry of a finished load (they are added in later tasks). */
async function settledPendingRequests(): Promise<number> {
  for (let n = pagePendingRequests(); ; ) {
    await new Promise((r) => setTimeout(r, 200));
    const now = pagePendingRequests();
    if (now === n) return n;
    n = now;
  }
}

/** The audit as compared: everything but the time it finished. */
const comparable = (a: FleetAudit) => ({ report: a.report, inputs: a.inputs, env: a.env, permissions: a.permissions });

describe('fleet audit in a worker', function () {
  this.timeout(60_000);

  it('gives the same audit as on the page, each VM handed once and its risk updated in that same object', async () => {
    performance.setResourceTimingBufferSize(10_000);
    const here = await loadFleetAudit(pageClient());
    expect(here.report.vms.length).to.be.greaterThan(5);
    const before = await settledPendingRequests();
    const spec = workerSpec();
    const handed = new Map<number, VmReport>();
    const risked: VmReport[] = [];
    let progress: [number, number] = [0, 0];
    const there = await loadFleetAudit(auditInWorker(pageClient(), spec), {
      onVm: (report) => {
        expect(handed.has(report.vmid), `VM ${report.vmid} handed twice`).to.equal(false);
        handed.set(report.vmid, report);
      },
      onRisk: (report) => risked.push(report),
      onProgress: (done, total) => (progress = [done, total]),
    });
    // Read in the worker: this page sent no /pending request of its own.
    expect(spec.started.length).to.equal(1);
    expect(await settledPendingRequests()).to.equal(before);
    expect(comparable(there)).to.deep.equal(comparable(here));
    expect(progress).to.deep.equal([here.report.vms.length, here.report.vms.length]);
    expect([...handed.keys()].sort()).to.deep.equal(here.report.vms.map((v) => v.vmid).sort());
    // The views keep the objects they were handed: the final audit holds exactly those.
    for (const vm of there.report.vms) expect(vm).to.equal(handed.get(vm.vmid));
    expect(risked.length).to.equal(there.report.vms.length);
    for (const vm of risked) expect(vm).to.equal(handed.get(vm.vmid));
    expect(spec.ended).to.deep.equal(spec.started);
  });

  it('ends the worker when the load is aborted: the load rejects with the abort, no VM comes after it', async () => {
    const spec = workerSpec();
    const ctl = new AbortController();
    let vms = 0;
    const load = loadFleetAudit(auditInWorker(pageClient(), spec), { signal: ctl.signal, onVm: () => vms++ });
    await waitUntil(() => spec.started.length === 1, 'worker started', { timeout: 10_000 });
    ctl.abort(new DOMException('navigated away', 'AbortError'));
    let error: unknown;
    await load.catch((e: unknown) => (error = e));
    expect((error as DOMException).message).to.equal('navigated away');
    expect(spec.ended).to.deep.equal(spec.started);
    const at = vms;
    await new Promise((r) => setTimeout(r, 500));
    expect(vms).to.equal(at);
  });

  it('audits on the page when the worker script does not load (not served)', async () => {
    const spec = workerSpec(new URL('/no-such-fleet-audit-worker.js', location.href));
    const before = await settledPendingRequests();
    const audit = await loadFleetAudit(auditInWorker(pageClient(), spec));
    expect(spec.started.length).to.equal(1);
    expect(audit.report.vms.length).to.be.greaterThan(5);
    expect((await settledPendingRequests()) - before).to.equal(audit.report.vms.length);
  });

  it('audits on the page when no worker can be created (Worker refused)', async () => {
    const before = await settledPendingRequests();
    const audit = await loadFleetAudit(
      auditInWorker(pageClient(), {
        start: () => {
          throw new DOMException("Refused to create a worker: Content Security Policy 'worker-src'", 'SecurityError');
        },
      }),
    );
    expect(audit.report.vms.length).to.be.greaterThan(5);
    expect((await settledPendingRequests()) - before).to.equal(audit.report.vms.length);
  });

  it('fails as on the page when the load fails in the worker (same error name and message)', async () => {
    const onPage = await loadFleetAudit(pageClient(), { node: 'no-such-node' }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    const inWorker = await loadFleetAudit(auditInWorker(pageClient(), workerSpec()), { node: 'no-such-node' }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(onPage).to.be.instanceOf(Error);
    expect(inWorker?.name).to.equal(onPage!.name);
    expect(inWorker?.message).to.equal(onPage!.message);
  });
});
