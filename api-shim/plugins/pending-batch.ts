// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `GET /dp/pending?node=N&vmids=100,101,...`: the configs of up to 500 VMs of one node in one
 * browser request, streamed as their answers come in (framing: api-shim/contracts/pending-batch.ts).
 *
 * Why: at 5,000 VMs the panel's one `fetch` per VM costs Chromium ~3.4 ms of CPU each across its
 * processes (measured on a bare page doing nothing else: 5,000 fetches at concurrency 6 against
 * the demo's stack took 20.8-21.4 s for a 12.5 s bound), so on two cores the browser, not PVE,
 * set the pace. Here the browser makes a handful of requests; PVE still gets exactly one
 * `GET /nodes/N/qemu/V/pending` per VM, at most 6 at a time per user, so "VMs x latency /
 * concurrency" keeps its meaning.
 *
 * Guards, in order, before anything goes upstream:
 * - login mode: a signed-in session (401 `DP_LOGIN_REQUIRED`), its user's ticket then reads;
 * - another site cannot trigger it (`Sec-Fetch-Site` / `Origin`, 403 `DP_CSRF`): one request here
 *   is up to 500 reads upstream, and no other site's page needs the panel's reads;
 * - the query: exactly `node` (one DNS label, as PVE names nodes) and `vmids` (100..999999999,
 *   comma-separated, no duplicate, at most 500), each once, nothing else (400 `DP_BAD_REQUEST`
 *   naming the parameter);
 * - each VM's read is the proxied GET's: the same guard (`readRefusal`: path, allow-list, query),
 *   the same per-user slots (api-shim/user-limiter.ts) and the same upstream request with the same
 *   credentials (`upstreamReads`); the browser's headers are not forwarded at all.
 * GET only (no HEAD: it would read the configs to send nothing); allowed in read-only mode.
 *
 * Flow: at most `BATCH_WINDOW` reads of one request are out at a time, and a new one starts only
 * while the client takes what was read (the stream's buffer below its high-water mark), so a slow
 * reader holds at most a window of answers plus one buffer. A client that hangs up ends the
 * reads in flight, frees their slots and starts no other.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  PENDING_BATCH_MAX_BODY,
  PENDING_BATCH_MAX_VMIDS,
  PENDING_BATCH_PATH,
  PENDING_BATCH_TYPE,
  endLine,
  recordHead,
} from '../contracts/pending-batch.js';
import { decodeQueryPart } from '../allow-list.js';
import { DP_BAD_REQUEST, DP_CSRF, DP_LOGIN_REQUIRED, DP_RATE_LIMITED, DP_UPSTREAM_UNREACHABLE, type ShimErrorSpec, sendShimError, shimErrorBody } from '../errors.js';
import type { ResolvedShimOptions } from '../options.js';
import { sessionOf } from '../session-of.js';
import { crossOriginProblem } from '../write-guard.js';
import { API_PREFIX, type UpstreamReads, readRefusal, upstreamReads } from './pve-proxy.js';

/** Reads of one batch request out at a time: the panel's own concurrency (the user's slots cap all of them together too). */
export const BATCH_WINDOW = 6;

/** A node name: one DNS label (PVE's node names are host names). */
const NODE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const VMID = /^[1-9][0-9]{2,8}$/;

/** The checked query of a batch request, or why it is refused. */
export type BatchQuery = { ok: true; node: string; vmids: number[] } | { ok: false; reason: string };

/** Parses the raw query string (after `?`, not decoded) of `GET /dp/pending`. */
export function parseBatchQuery(rawQuery: string): BatchQuery {
  const usage = `expected ?node=<node>&vmids=<vmid>,<vmid>,... (at most ${PENDING_BATCH_MAX_VMIDS} VMIDs)`;
  if (rawQuery === '') return { ok: false, reason: `no query: ${usage}` };
  // pveproxy would split on ';' too; the panel never sends one.
  if (rawQuery.includes(';')) return { ok: false, reason: `';' in the query string: ${usage}` };
  const values = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    const decoded = decodeQueryPart(part);
    if (!decoded) return { ok: false, reason: `malformed percent-encoding in the query parameter '${part.slice(0, 60)}'` };
    const { name, value } = decoded;
    if (name !== 'node' && name !== 'vmids') return { ok: false, reason: `query parameter '${name.slice(0, 60)}' is not one of node, vmids: ${usage}` };
    if (values.has(name)) return { ok: false, reason: `query parameter '${name}' given twice: ${usage}` };
    values.set(name, value);
  }
  const node = values.get('node');
  if (node === undefined) return { ok: false, reason: `query parameter 'node' missing: ${usage}` };
  if (!NODE_NAME.test(node)) return { ok: false, reason: `query parameter 'node': '${node.slice(0, 64)}' is not a node name (letters, digits and '-', at most 63)` };
  const list = values.get('vmids');
  if (list === undefined || list === '') return { ok: false, reason: `query parameter 'vmids' missing or empty: ${usage}` };
  const parts = list.split(',');
  if (parts.length > PENDING_BATCH_MAX_VMIDS) return { ok: false, reason: `query parameter 'vmids': ${parts.length} VMIDs, at most ${PENDING_BATCH_MAX_VMIDS} per request` };
  const vmids: number[] = [];
  const seen = new Set<number>();
  for (const p of parts) {
    if (!VMID.test(p)) return { ok: false, reason: `query parameter 'vmids': '${p.slice(0, 20)}' is not a VMID (100 to 999999999)` };
    const vmid = Number(p);
    if (seen.has(vmid)) return { ok: false, reason: `query parameter 'vmids': ${vmid} given twice` };
    seen.add(vmid);
    vmids.push(vmid);
  }
  return { ok: true, node, vmids };
}

/** Registers `GET /dp/pending`. */
export async function pendingBatch(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  const reads = upstreamReads(opts);
  app.route({
    method: 'GET',
    url: PENDING_BATCH_PATH,
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const what = `GET ${PENDING_BATCH_PATH}`;
      if (opts.login && !sessionOf(request)) return sendShimError(reply, DP_LOGIN_REQUIRED, `${what}: sign in with your PVE user first (POST /dp/login)`);
      const cross = crossOriginProblem(request.headers);
      if (cross) return sendShimError(reply, DP_CSRF, `${what} refused: ${cross} (another site cannot make the shim read the cluster)`);
      const url = request.raw.url ?? '';
      const q = url.indexOf('?');
      const query = parseBatchQuery(q < 0 ? '' : url.slice(q + 1));
      if (!query.ok) return sendShimError(reply, DP_BAD_REQUEST, `${what}: ${query.reason}; nothing was sent to PVE`);
      const targets = query.vmids.map((vmid) => ({ vmid, url: `${API_PREFIX}/nodes/${query.node}/qemu/${vmid}/pending` }));
      // The proxied GET's own guard, for every VM before the first goes upstream.
      for (const t of targets) {
        const refused = readRefusal('GET', t.url, opts.readOnly);
        if (refused) return sendShimError(reply, refused.spec, `${what}: VM ${t.vmid}: ${refused.message}`);
      }
      void reply.code(200).header('content-type', PENDING_BATCH_TYPE).header('cache-control', 'no-store');
      return reply.send(new PendingBatchStream(reads, request, targets));
    },
  });
}

/** The records of one batch request, read upstream as the client takes them (see the module comment). */
class PendingBatchStream extends Readable {
  private next = 0;
  /** Reads started and not yet recorded (waiting for a slot, or upstream). */
  private out = 0;
  private records = 0;
  /** The client takes more (`_read` was called since `push` last said stop). */
  private wanted = false;
  private readonly upstream = new Set<ClientRequest>();
  private readonly slots = new Set<() => void>();
  private readonly user: string;

  constructor(
    private readonly reads: UpstreamReads,
    private readonly request: FastifyRequest,
    private readonly targets: readonly { vmid: number; url: string }[],
  ) {
    super();
    this.user = sessionOf(request)?.userid ?? 'token';
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The client hung up (or the answer failed): no read goes on, every slot is freed.
    for (const u of this.upstream) u.destroy();
    this.upstream.clear();
    for (const release of this.slots) release();
    this.slots.clear();
    callback(error);
  }

  private pump(): void {
    while (this.wanted && !this.destroyed && this.out < BATCH_WINDOW && this.next < this.targets.length) {
      void this.readOne(this.targets[this.next++]!);
    }
    if (this.out === 0 && this.next === this.targets.length && !this.destroyed && !this.readableEnded) {
      this.push(endLine(this.records));
      this.push(null);
    }
  }

  private async readOne(target: { vmid: number; url: string }): Promise<void> {
    this.out++;
    const release = await this.reads.limiter.acquire(this.user);
    if (this.destroyed) return void release?.();
    if (!release) return this.shimError(target.vmid, DP_RATE_LIMITED, `too many requests from ${this.user} waiting for PVE; retry shortly`);
    this.slots.add(release);
    const done = (): void => {
      this.slots.delete(release);
      release();
    };
    // No header of the browser's: JSON, uncompressed (the record's length is the body's).
    const upstream = this.reads.open(this.request, 'GET', target.url, { accept: 'application/json' });
    this.upstream.add(upstream);
    upstream.on('response', (answer: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const encoding = answer.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        answer.destroy();
        return this.failed(upstream, done, target.vmid, `PVE at ${this.reads.host} answered with Content-Encoding ${encoding}, which was not asked for`);
      }
      answer.on('data', (c: Buffer) => {
        size += c.length;
        if (size > PENDING_BATCH_MAX_BODY) {
          answer.destroy();
          upstream.destroy();
          return void this.failed(upstream, done, target.vmid, `PVE at ${this.reads.host} answered more than ${PENDING_BATCH_MAX_BODY} bytes for VM ${target.vmid}`);
        }
        chunks.push(c);
      });
      answer.on('end', () => {
        if (!this.upstream.delete(upstream)) return;
        done();
        const status = answer.statusCode ?? 0;
        if (status < 100 || status > 599) return this.shimError(target.vmid, DP_UPSTREAM_UNREACHABLE, `PVE at ${this.reads.host} answered with an invalid status ${String(answer.statusCode)}`);
        this.record(target.vmid, status, answer.statusMessage, Buffer.concat(chunks, size));
      });
      answer.on('error', (error: Error) => this.failed(upstream, done, target.vmid, `PVE at ${this.reads.host} not reachable: ${error.message}`));
      // Cut off mid-body without an error event: the VM is not read (once, whatever came first).
      answer.on('close', () => answer.complete || this.failed(upstream, done, target.vmid, `PVE at ${this.reads.host} closed the connection mid-answer`));
    });
    upstream.on('error', (error: Error) => this.failed(upstream, done, target.vmid, `PVE at ${this.reads.host} not reachable: ${error.message}`));
  }

  /** A read that failed in the shim: its slot is freed and the VM gets the proxy's 502 (once). */
  private failed(upstream: ClientRequest, done: () => void, vmid: number, message: string): void {
    if (!this.upstream.delete(upstream)) return;
    done();
    this.shimError(vmid, DP_UPSTREAM_UNREACHABLE, message);
  }

  /** The record of the shim's own error answer, as `sendShimError` would have sent it. */
  private shimError(vmid: number, spec: ShimErrorSpec, message: string): void {
    this.record(vmid, spec.status, message.split('\n')[0], Buffer.from(JSON.stringify(shimErrorBody(spec, message))));
  }

  private record(vmid: number, status: number, reason: string | undefined, body: Buffer): void {
    this.out--;
    if (this.destroyed) return;
    this.records++;
    const head = Buffer.from(recordHead(vmid, status, reason, body.length));
    if (!this.push(body.length > 0 ? Buffer.concat([head, body]) : head)) this.wanted = false;
    this.pump();
  }
}
