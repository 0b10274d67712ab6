// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's fleet load through the shim's batched config read (panel/data/pending-batch.ts),
 * against the real shim and the simulator: the same audit as one request per VM (errors
 * included), rows and the counter as the answers arrive, abort, and per-VM reads for what a batch
 * could not deliver.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PENDING_BATCH_MAX_VMIDS, PENDING_BATCH_PATH } from '../../api-shim/contracts/pending-batch.js';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { PveClient } from '../../src/api/client.js';
import { fetchTransport } from '../../src/api/fetch-transport.js';
import { type FleetAudit, loadFleetAudit, readPendingInBatches } from '../../panel/data/fleet-audit.js';
import { FIRST_ANSWER_MARK } from '../../panel/data/pending-batch.js';
import { startShim } from '../shim/helpers.js';

const ADVERT = { path: PENDING_BATCH_PATH, maxVmids: PENDING_BATCH_MAX_VMIDS };

let sim: RunningSimulator;
let shim: Awaited<ReturnType<typeof startShim>>;
/** Every request the simulator answered (`GET /api2/json/... -> 200`). */
const upstream: string[] = [];
/** Every request the panel's side sent to the shim. */
const sent: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ vms: 60, nodes: 3, seed: 7, http: true, authDelayMs: 0, timeScale: 0, latencyMs: 2, log: (l) => upstream.push(l) });
  shim = await startShim({ upstream: sim.url, token: sim.token });
});
afterAll(async () => {
  await shim?.close();
  await sim?.close();
});
afterEach(() => {
  sim.state.setFaults(undefined);
  upstream.length = 0;
  sent.length = 0;
});

/** The page's `fetch` on the shim's origin (relative URLs resolve against it), recording each request; `wrap` may change an answer. */
function pageFetch(wrap?: (url: string, res: Response) => Response): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input), shim.url).href;
    sent.push(url.slice(shim.url.length));
    const res = await fetch(url, init);
    return wrap ? wrap(url, res) : res;
  };
}

/** The standalone panel's client (same origin, no token), reading in batches when `batched`. */
function panelClient(batched: boolean, f: typeof fetch = pageFetch()): PveClient {
  const client = new PveClient({ baseUrl: shim.url, auth: { kind: 'same-origin' }, concurrency: 6, transport: fetchTransport({ fetch: f }) });
  return batched ? readPendingInBatches(client, () => ADVERT, { fetch: f }) : client;
}

/** `count()` once it gave the same value 6 polls in a row, 50 ms apart (at most 10 s). */
async function settled(count: () => number): Promise<number> {
  let last = count();
  for (let same = 0, until = Date.now() + 10_000; same < 6 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 50));
    const now = count();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

const comparable = (a: FleetAudit) => ({ report: a.report, inputs: a.inputs, env: a.env, permissions: a.permissions });
const vmPending = (lines: readonly string[]) => lines.filter((l) => /\/qemu\/\d+\/pending /.test(l));

describe('the fleet load through GET /dp/pending', () => {
  it('gives the audit of one request per VM, typed per-VM errors included, with one upstream read per VM', async () => {
    const faults = () =>
      sim.state.setFaults({
        rules: [
          { path: '/nodes/*/qemu/105/pending', kind: 'error', status: 403, message: 'Permission check failed (/vms/105, VM.Audit)' },
          { path: '/nodes/*/qemu/110/pending', kind: 'error', status: 500, message: 'got timeout' },
        ],
      });
    faults();
    const perVm = await loadFleetAudit(panelClient(false));
    const perVmUpstream = vmPending(upstream).length;
    upstream.length = 0;
    sent.length = 0;
    faults();
    const batched = await loadFleetAudit(panelClient(true));
    expect(comparable(batched)).toEqual(comparable(perVm));
    // The two failures are in the report, as the per-VM path words them.
    expect(batched.report.errors.map((e) => e.message).join('\n')).toMatch(/VM 105 not audited: .* needs VM\.Audit on \/vms\/105/);
    expect(batched.report.errors.map((e) => e.message).join('\n')).toMatch(/VM 110 not audited: .*got timeout/);
    // A handful of browser requests for the configs: one batch per node; only the retries of the
    // 500 (the client's own rule: an unexplained 5xx is tried twice more) go one by one.
    const batches = sent.filter((u) => u.startsWith(`${PENDING_BATCH_PATH}?`));
    expect(batches).toHaveLength(3);
    expect(sent.filter((u) => /\/qemu\/\d+\/pending$/.test(u))).toEqual([expect.stringMatching(/\/qemu\/110\/pending$/), expect.stringMatching(/\/qemu\/110\/pending$/)]);
    // PVE got as many config reads as without the batch.
    expect(vmPending(upstream)).toHaveLength(perVmUpstream);
  });

  it('asks the shim for no call it refuses: RAM snapshots from the snapshot lists, not a storage listing per network storage', async () => {
    const refused: string[] = [];
    await loadFleetAudit(
      panelClient(
        true,
        pageFetch((url, res) => {
          if (res.status >= 400) refused.push(`${res.status} ${url.slice(shim.url.length)}`);
          return res;
        }),
      ),
    );
    expect(refused).toEqual([]);
    // The fleet has VMs whose RAM snapshots matter: they are still read, one list per VM.
    expect(sent.filter((u) => /\/qemu\/\d+\/snapshot$/.test(u)).length).toBeGreaterThan(0);
  });

  it('hands rows and moves the counter as the answers come in, and marks the first answer', async () => {
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/*/pending', kind: 'latency', latencyMs: 10 }] });
    performance.clearMarks(FIRST_ANSWER_MARK);
    const progress: number[] = [];
    let firstVmAt = -1;
    const audit = await loadFleetAudit(panelClient(true), {
      onProgress: (done) => progress.push(done),
      onVm: () => firstVmAt < 0 && (firstVmAt = progress.length ? progress[progress.length - 1]! : 0),
    });
    const total = audit.report.vms.length;
    expect(total).toBe(60);
    expect(progress).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // The first row came while most configs were still out.
    expect(firstVmAt).toBeLessThan(total / 2);
    expect(performance.getEntriesByName(FIRST_ANSWER_MARK, 'mark')).toHaveLength(1);
  });

  it("starts the batched reads once the facts every row waits for are in (the nodes' QEMU versions)", async () => {
    sim.state.setFaults({ rules: [{ path: '/nodes/*/apt/versions', kind: 'latency', latencyMs: 150 }] });
    const inner = pageFetch();
    let versionsIn = 0;
    let firstBatchOut = Infinity;
    const timed: typeof fetch = async (input, init) => {
      if (String(input).startsWith(PENDING_BATCH_PATH)) firstBatchOut = Math.min(firstBatchOut, performance.now());
      const res = await inner(input, init);
      if (String(input).includes('/apt/versions')) versionsIn = Math.max(versionsIn, performance.now());
      return res;
    };
    await loadFleetAudit(panelClient(true, timed));
    expect(versionsIn).toBeGreaterThan(0);
    expect(firstBatchOut).toBeGreaterThanOrEqual(versionsIn);
  });

  it('an abort rejects the load and the shim stops reading upstream', async () => {
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/*/pending', kind: 'latency', latencyMs: 30 }] });
    const ctl = new AbortController();
    const load = loadFleetAudit(panelClient(true), { signal: ctl.signal, onProgress: (done) => done === 5 && ctl.abort(new Error('user left')) });
    await expect(load).rejects.toThrow();
    // Reads already at the simulator when the shim saw the hang-up still answer: count once the
    // log has stood still for a few polls (a fixed 150 ms could end, after a stall on a loaded
    // machine, before the answers due meanwhile were logged).
    const after = await settled(() => vmPending(upstream).length);
    await new Promise((r) => setTimeout(r, 400));
    expect(vmPending(upstream).length).toBe(after);
    expect(after).toBeLessThan(30);
  });

  it('reads one by one the VMs of a batch cut off mid-stream, and of a batch the shim refused', async () => {
    const reference = comparable(await loadFleetAudit(panelClient(false)));
    let cut = 0;
    // The first batch stops after its first 3000 bytes (a dropped connection).
    const cutting = pageFetch((url, res) => {
      if (!url.includes(`${PENDING_BATCH_PATH}?`) || cut++ > 0) return res;
      const reader = res.body!.getReader();
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) return c.close();
          n += value.length;
          if (n > 3000) {
            void reader.cancel().catch(() => {});
            return c.error(new TypeError('network error'));
          }
          c.enqueue(value);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    });
    expect(comparable(await loadFleetAudit(panelClient(true, cutting)))).toEqual(reference);
    expect(sent.filter((u) => /\/qemu\/\d+\/pending$/.test(u)).length).toBeGreaterThan(0);
    sent.length = 0;
    const refusing = pageFetch((url, res) => (url.includes(`${PENDING_BATCH_PATH}?`) ? new Response('{"data":null}', { status: 404, statusText: 'Not Found' }) : res));
    expect(comparable(await loadFleetAudit(panelClient(true, refusing)))).toEqual(reference);
    expect(sent.filter((u) => /\/qemu\/\d+\/pending$/.test(u))).toHaveLength(60);
  });
});
