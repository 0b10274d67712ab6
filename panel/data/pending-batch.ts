// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The fleet audit's per-VM `/pending` answers read through the shim's batched read
 * (`GET /dp/pending`, api-shim/plugins/pending-batch.ts says why: the browser's CPU per request),
 * as a `pendingSource` of the audit service (src/audit/fleet.ts).
 *
 * Each record is handed to a `PveClient` as if it were that VM's own answer: its transport is the
 * batch, so the envelope check and the typed errors (PvePermissionError for a 403, ...) are the
 * client's, exactly as for a per-VM GET. What the client would retry (a 5xx PVE did not explain, a
 * connection failure) is retried one VM at a time over the page's `fetch`, with the client's own
 * backoff; so are the VMs of a batch that was refused or cut off before their record (they are read
 * per VM at once).
 *
 * At most `BATCHES_IN_FLIGHT` batch requests are out, so the shim always has the next VMs to read
 * when one batch ends; the shim paces the reads (6 per user) and stops reading while this side
 * does not take the stream.
 */
import {
  PENDING_BATCH_TYPE,
  type PendingBatchAdvert,
  PendingBatchParser,
  type PendingBatchRecord,
} from '../../api-shim/contracts/pending-batch.js';
import { PveClient, type TransportRequest, type TransportResponse } from '../../src/api/client.js';
import { fetchVmPending, type PendingItem } from '../../src/api/endpoints/qemu.js';
import { fetchTransport } from '../../src/api/fetch-transport.js';
import type { PendingSource } from '../../src/audit/fleet.js';

/** Batch requests out at once. */
const BATCHES_IN_FLIGHT = 2;

/** No byte of a batch for this long: it is given up, and its unread VMs are read one by one (ms). */
const IDLE_TIMEOUT_MS = 30_000;

/** The performance mark set when the first VM's answer is handed to the audit (DevTools; bench/panel-fleet.ts reads it). */
export const FIRST_ANSWER_MARK = 'pve-dataplane:first-pending-answer';

export interface PendingBatchOptions {
  /** Another `fetch` (tests). */
  fetch?: typeof fetch;
}

interface Entry {
  node: string;
  vmid: number;
  /** The client's request for this VM's answer, once it asked. */
  req?: TransportRequest;
  /** waiting: for its record; settled: answered from a record; per-vm: read on its own. */
  state: 'waiting' | 'settled' | 'per-vm';
  answer: Promise<TransportResponse>;
  resolve: (r: TransportResponse | Promise<TransportResponse>) => void;
  reject: (err: unknown) => void;
}

/**
 * A `pendingSource` reading through the shim's batched read `advert` (from `/dp/config`), for the
 * same-origin `client` (its `apiBase` and its browser credentials).
 */
export function pendingBatchSource(client: PveClient, advert: PendingBatchAdvert, options: PendingBatchOptions = {}): PendingSource {
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const perVm = fetchTransport(options.fetch ? { fetch: options.fetch } : {});
  return (vms, signal) => {
    const entries = new Map<number, Entry>();
    for (const { node, vmid } of vms) {
      let resolve!: Entry['resolve'];
      let reject!: Entry['reject'];
      const answer = new Promise<TransportResponse>((res, rej) => ((resolve = res), (reject = rej)));
      // Rejected before the client asked for it (an abort): handled where it is awaited, if ever.
      answer.catch(() => {});
      entries.set(vmid, { node, vmid, state: 'waiting', answer, resolve, reject });
    }
    // The answers go through a client of their own whose transport is the batch (see the module comment).
    const records = new PveClient({
      baseUrl: client.apiBase,
      auth: { kind: 'same-origin' },
      concurrency: Math.max(1, vms.length),
      transport: (req) => {
        const e = entries.get(Number(/\/qemu\/([0-9]+)\/pending$/.exec(req.url)?.[1]));
        // A retry, or a VM whose batch gave it up: one request of its own.
        if (!e || e.state === 'per-vm' || e.req) return perVm(req);
        e.req = req;
        return e.answer;
      },
    });
    let first = true;
    const settle = (r: PendingBatchRecord): void => {
      const e = entries.get(r.vmid);
      if (!e || e.state !== 'waiting') return;
      if (first) {
        first = false;
        performance.mark(FIRST_ANSWER_MARK);
      }
      e.state = 'settled';
      e.resolve({ status: r.status, statusText: r.reason, body: r.body });
    };
    const readAlone = (e: Entry): void => {
      if (e.state !== 'waiting') return;
      if (signal?.aborted) return e.reject(signal.reason);
      e.state = 'per-vm';
      if (e.req) e.resolve(perVm(e.req));
    };
    const batches = batchesOf(vms, advert.maxVmids);
    const runBatch = async (batch: { node: string; vmids: number[] }): Promise<void> => {
      const ctl = new AbortController();
      const onAbort = (): void => ctl.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (signal?.aborted) return;
        const url = `${advert.path}?node=${encodeURIComponent(batch.node)}&vmids=${batch.vmids.join(',')}`;
        const res = await send(url, { credentials: 'same-origin', cache: 'no-store', redirect: 'manual', headers: { Accept: PENDING_BATCH_TYPE }, signal: ctl.signal });
        if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith(PENDING_BATCH_TYPE.split(';')[0]!)) {
          console.warn(`pve-dataplane: ${advert.path} answered ${res.status} ${res.statusText}; reading those ${batch.vmids.length} VMs one by one`);
          await res.body?.cancel().catch(() => {});
          return;
        }
        const reader = res.body.getReader();
        const parser = new PendingBatchParser();
        for (;;) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const idle = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no data for ${IDLE_TIMEOUT_MS} ms`)), IDLE_TIMEOUT_MS)));
          const chunk = await Promise.race([reader.read(), idle]).finally(() => clearTimeout(timer));
          if (chunk.done) break;
          for (const r of parser.push(chunk.value)) settle(r);
        }
        parser.finish();
      } catch (err) {
        if (!signal?.aborted) console.warn(`pve-dataplane: a batch of ${batch.vmids.length} configs failed (${err instanceof Error ? err.message : String(err)}); reading its unread VMs one by one`);
        ctl.abort();
      } finally {
        signal?.removeEventListener('abort', onAbort);
        for (const vmid of batch.vmids) readAlone(entries.get(vmid)!);
      }
    };
    // BATCHES_IN_FLIGHT lanes take the batches in order.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < batches.length) await runBatch(batches[next++]!);
    };
    for (let i = 0; i < Math.min(BATCHES_IN_FLIGHT, batches.length); i++) void lane();
    return vms.map(({ node, vmid }) => fetchVmPending(records, node, vmid, signal ? { signal } : {}) as Promise<PendingItem[]>);
  };
}

/** The VMs per node, in the order given, in batches of at most `max`. */
function batchesOf(vms: readonly { node: string; vmid: number }[], max: number): { node: string; vmids: number[] }[] {
  const byNode = new Map<string, number[]>();
  for (const { node, vmid } of vms) {
    const list = byNode.get(node);
    if (list) list.push(vmid);
    else byNode.set(node, [vmid]);
  }
  const out: { node: string; vmids: number[] }[] = [];
  const size = Math.max(1, Math.floor(max));
  for (const [node, vmids] of byNode) for (let i = 0; i < vmids.length; i += size) out.push({ node, vmids: vmids.slice(i, i + size) });
  return out;
}
