// SPDX-License-Identifier: AGPL-3.0-or-later
// The panel's client of the jobs API (panel/data/jobs.ts) against a real shim and simulator:
// preview, start, follow the events to the summary, list, roll back; refusals keep the shim's code.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { JobsApiError, JobsClient, type JobEvent, parseEventStream } from '../../panel/data/jobs.js';
import { CSRF, startShim } from '../shim/helpers.js';

describe('JobsClient', () => {
  let sim: RunningSimulator;
  let shim: Awaited<ReturnType<typeof startShim>>;
  let jobs: JobsClient;
  beforeAll(async () => {
    sim = await startSimulator({ vms: 12, seed: 21, http: true, authDelayMs: 0, timeScale: 0.001 });
    shim = await startShim({ upstream: sim.url, token: sim.token, stateDir: mkdtempSync(join(tmpdir(), 'dp-jobs-client-')), jobEngine: { pollMs: 10 } });
    jobs = new JobsClient({ csrfToken: CSRF, base: shim.url, retryMs: 50 });
  });
  afterAll(async () => {
    await shim.close();
    await sim.state.settle();
    await sim.close();
  });

  it('previews, starts, follows a job to its summary, lists it, rolls it back', async () => {
    const vms = [...sim.state.vms.values()].map((v) => ({ vmid: v.vmid, node: v.node }));
    const plan = await jobs.createPlan({ vms, aio: 'threads' });
    expect(plan.plan.vms).toHaveLength(12);
    const started = await jobs.startJob({ planId: plan.id!, reboot: 'never', concurrency: 2 });
    const events: JobEvent[] = [];
    const summary = await jobs.waitForEnd(started.id, (e) => events.push(e));
    expect(events[0]!.type).toBe('snapshot');
    expect(events.at(-1)).toEqual({ type: 'summary', job: summary });
    expect(summary.status).toBe('finished');
    const job = await jobs.getJob(started.id);
    expect(job.counts).toEqual(summary.counts);
    // Every VM's last event is its final state.
    for (const vm of job.vms.filter((v) => v.state !== 'skipped')) {
      const last = events.filter((e) => e.type === 'vm' && e.vm.vmid === vm.vmid).at(-1);
      expect(last).toEqual({ type: 'vm', vm });
    }
    expect((await jobs.listJobs())[0]!.id).toBe(started.id);

    const written = job.vms.filter((v) => v.state === 'written' || v.state === 'verified').map((v) => v.vmid);
    const rb = await jobs.rollback(started.id, { reboot: 'never', vmids: written });
    const done = await jobs.waitForEnd(rb.id);
    expect(done.counts.verified).toBe(written.length);
  });

  it('a refusal keeps the shim\'s code and message', async () => {
    const err = await jobs.startJob({ planId: 'p-none', reboot: 'never' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobsApiError);
    expect(err).toMatchObject({ status: 404, code: 'DP_NOT_FOUND' });
    const noToken = new JobsClient({ csrfToken: 'wrong', base: shim.url });
    await expect(noToken.startJob({ planId: 'p-none', reboot: 'never' })).rejects.toMatchObject({ code: 'DP_CSRF' });
  });

  it('parses an event stream cut anywhere, CRLF or LF, comments and multi-line data', async () => {
    const text = ': keep-alive\r\n\r\nid: a-1\r\nevent: vm\r\ndata: {"vm":\r\ndata: 1}\r\n\r\nid: a-2\nevent: summary\ndata: {}\n\n';
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 3) c.enqueue(bytes.slice(i, i + 3));
        c.close();
      },
    });
    const out = [];
    for await (const e of parseEventStream(stream)) out.push(e);
    expect(out).toEqual([
      { id: 'a-1', event: 'vm', data: '{"vm":\n1}' },
      { id: 'a-2', event: 'summary', data: '{}' },
    ]);
  });
});
