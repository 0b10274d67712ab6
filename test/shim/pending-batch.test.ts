// SPDX-License-Identifier: AGPL-3.0-or-later
// GET /dp/pending (api-shim/plugins/pending-batch.ts): many VMs' configs in one browser request,
// each still one guarded, paced upstream read. Security regression tests are named after the
// attack they stop: nothing reaches PVE unless the whole request is well-formed, one request cannot
// make the shim read more than its cap or faster than the user's slots, a client that hangs up or
// stops reading stops the reads, and the token never appears in the stream.
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PENDING_BATCH_TYPE, PendingBatchParser, type PendingBatchRecord } from '../../api-shim/contracts/pending-batch.js';
import { SECRET, TOKEN, rawRequest, startShim } from './helpers.js';

/** What the fake PVE does for one VM's /pending. */
type Behaviour = { kind: 'ok'; bodyBytes?: number } | { kind: 'status'; status: number; reason: string } | { kind: 'hold' } | { kind: 'close' };

interface FakePve {
  url: string;
  /** Every request, in arrival order. */
  seen: { url: string; headers: http.IncomingHttpHeaders }[];
  /** /pending requests being answered now; the most at once. */
  inFlight: number;
  maxInFlight: number;
  /** Held requests whose client (the shim) went away. */
  closedByShim: number;
  behaviour: Map<number, Behaviour>;
  /** For VMs without an entry in `behaviour`. */
  fallback: Behaviour;
  delayMs: number;
  close(): Promise<void>;
}

/** The body a VM's answer carries (recognisable per VM, multi-byte, and with framing-like text). */
const bodyOf = (vmid: number, pad = 0): string =>
  JSON.stringify({ data: [{ key: 'name', value: `vm-${vmid} é\n100 200 5 OK\nend 0` }, { key: 'digest', value: 'x'.repeat(pad) }] });

async function fakePve(): Promise<FakePve> {
  const pve: FakePve = { url: '', seen: [], inFlight: 0, maxInFlight: 0, closedByShim: 0, behaviour: new Map(), fallback: { kind: 'ok' }, delayMs: 5, close: async () => {} };
  const server = http.createServer((req, res) => {
    pve.seen.push({ url: req.url ?? '', headers: req.headers });
    const m = /\/qemu\/([0-9]+)\/pending$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    const vmid = Number(m[1]);
    const b = pve.behaviour.get(vmid) ?? pve.fallback;
    pve.inFlight++;
    pve.maxInFlight = Math.max(pve.maxInFlight, pve.inFlight);
    let over = false;
    const finish = (): void => {
      if (over) return;
      over = true;
      pve.inFlight--;
    };
    res.on('close', () => {
      if (!res.writableFinished && b.kind === 'hold') pve.closedByShim++;
      finish();
    });
    setTimeout(() => {
      if (b.kind === 'hold') return;
      if (b.kind === 'close') return void req.socket.destroy();
      if (b.kind === 'status') return void res.writeHead(b.status, b.reason, { 'content-type': 'application/json' }).end('{"data":null}');
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(bodyOf(vmid, b.bodyBytes ?? 0));
    }, pve.delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  pve.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  pve.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return pve;
}

interface Batch {
  status: number;
  headers: http.IncomingHttpHeaders;
  records: PendingBatchRecord[];
  raw: string;
  body: string;
}

/** `GET path` on the shim, its stream parsed as the panel parses it. */
function getBatch(base: string, path: string, headers: Record<string, string> = {}): Promise<Batch> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, headers }, (res) => {
      const parser = new PendingBatchParser();
      const records: PendingBatchRecord[] = [];
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (res.statusCode === 200) records.push(...parser.push(c));
      });
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) parser.finish();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, records, raw, body: raw });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const vmidsFrom = (first: number, n: number): number[] => Array.from({ length: n }, (_, i) => first + i);
const pendingCalls = (pve: FakePve): string[] => pve.seen.map((s) => s.url).filter((u) => u.endsWith('/pending'));
const until = async (what: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('GET /dp/pending', () => {
  let pve: FakePve;
  let shim: Awaited<ReturnType<typeof startShim>>;
  beforeAll(async () => {
    pve = await fakePve();
    shim = await startShim({ upstream: pve.url });
  });
  afterAll(async () => {
    await shim.close();
    await pve.close();
  });
  afterEach(() => {
    pve.seen.length = 0;
    pve.behaviour.clear();
    pve.fallback = { kind: 'ok' };
    pve.maxInFlight = 0;
    pve.delayMs = 5;
  });

  it('streams each VM\'s answer as PVE sent it, one upstream GET per VM with the token, then the end line', async () => {
    const vmids = vmidsFrom(100, 40);
    const res = await getBatch(shim.url, `/dp/pending?node=pve1&vmids=${vmids.join('%2C')}`, { 'accept-encoding': 'gzip', cookie: 'x=1' });
    expect(res.status, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(PENDING_BATCH_TYPE);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.records.map((r) => r.vmid).sort((a, b) => a - b)).toEqual(vmids);
    for (const r of res.records) {
      expect(r.status).toBe(200);
      expect(r.body).toBe(bodyOf(r.vmid));
    }
    expect(pendingCalls(pve).sort()).toEqual(vmids.map((v) => `/api2/json/nodes/pve1/qemu/${v}/pending`).sort());
    for (const s of pve.seen) {
      expect(s.headers['authorization']).toBe(`PVEAPIToken=${TOKEN}`);
      // None of the browser's headers goes upstream (no compression: the record's length is the body's).
      expect(s.headers['accept-encoding']).toBeUndefined();
      expect(s.headers['cookie']).toBeUndefined();
    }
  });

  it('batch-per-vm-errors: a VM PVE refuses, fails or drops is a record with its status, the stream goes on', async () => {
    pve.behaviour.set(101, { kind: 'status', status: 403, reason: 'Permission check failed (/vms/101, VM.Audit)' });
    pve.behaviour.set(102, { kind: 'status', status: 500, reason: 'got timeout' });
    pve.behaviour.set(103, { kind: 'close' });
    const res = await getBatch(shim.url, '/dp/pending?node=pve1&vmids=100,101,102,103,104');
    expect(res.status).toBe(200);
    const by = new Map(res.records.map((r) => [r.vmid, r]));
    expect(by.size).toBe(5);
    expect(by.get(100)!.status).toBe(200);
    expect(by.get(101)).toMatchObject({ status: 403, reason: 'Permission check failed (/vms/101, VM.Audit)', body: '{"data":null}' });
    expect(by.get(102)).toMatchObject({ status: 500, reason: 'got timeout' });
    expect(by.get(103)!.status).toBe(502);
    expect(JSON.parse(by.get(103)!.body)).toMatchObject({ data: null, code: 'DP_UPSTREAM_UNREACHABLE' });
    expect(by.get(104)!.status).toBe(200);
  });

  it('batch-amplification-over-cap: more than 500 VMIDs in one request is refused before any read', async () => {
    const res = await rawRequest(shim.url, 'GET', `/dp/pending?node=pve1&vmids=${vmidsFrom(100, 501).join(',')}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_BAD_REQUEST' });
    expect(res.body).toMatch(/'vmids': 501 VMIDs, at most 500/);
    expect(pendingCalls(pve)).toEqual([]);
  });

  it('batch-amplification-by-repetition: a VMID given twice is refused (one request, one read per VM)', async () => {
    const res = await rawRequest(shim.url, 'GET', '/dp/pending?node=pve1&vmids=100,101,100');
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/'vmids': 100 given twice/);
    expect(pendingCalls(pve)).toEqual([]);
  });

  it('batch-node-path-traversal: a node that is not one DNS label never reaches PVE', async () => {
    for (const node of ['..', '..%2F..%2Faccess%2Fusers', 'pve1%2F..%2F..%2Faccess', 'pve1/../x', 'pve1%00', '-pve', 'a'.repeat(64), '', 'pve1%3Fx%3D1']) {
      const res = await rawRequest(shim.url, 'GET', `/dp/pending?node=${node}&vmids=100`);
      expect(res.status, node).toBe(400);
      expect(res.body, node).toMatch(/'node'/);
    }
    expect(pve.seen).toEqual([]);
  });

  it('batch-vmid-injection: anything but a VMID in 100..999999999 is refused', async () => {
    for (const v of ['99', '1000000000', '0100', '1e3', '100.0', '-100', '100%2F..%2F..', '100/../101', '%20100', '100,', ',100']) {
      const res = await rawRequest(shim.url, 'GET', `/dp/pending?node=pve1&vmids=${v}`);
      expect(res.status, v).toBe(400);
      expect(res.body, v).toMatch(/'vmids'/);
    }
    expect(pve.seen).toEqual([]);
  });

  it('batch-parameter-smuggling: another, repeated or missing parameter is refused naming it', async () => {
    const cases: [string, RegExp][] = [
      ['node=pve1&vmids=100&full=1', /'full' is not one of node, vmids/],
      ['node=pve1&node=pve2&vmids=100', /'node' given twice/],
      ['node=pve1&vmids=100&vmids=101', /'vmids' given twice/],
      ['node=pve1;vmids=100', /';'/],
      ['vmids=100', /'node' missing/],
      ['node=pve1', /'vmids' missing/],
      ['', /no query/],
      ['node=pve1&vmids=%ZZ', /percent-encoding/],
    ];
    for (const [q, why] of cases) {
      const res = await rawRequest(shim.url, 'GET', `/dp/pending${q ? `?${q}` : ''}`);
      expect(res.status, q).toBe(400);
      expect(JSON.parse(res.body).message, q).toMatch(why);
    }
    expect(pve.seen).toEqual([]);
  });

  it('batch-cross-site-trigger: another site\'s page cannot make the shim read (Sec-Fetch-Site, Origin)', async () => {
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }] as Record<string, string>[]) {
      const res = await rawRequest(shim.url, 'GET', '/dp/pending?node=pve1&vmids=100', headers);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_CSRF' });
    }
    expect(pve.seen).toEqual([]);
    // The panel's own request (same origin) goes.
    expect((await getBatch(shim.url, '/dp/pending?node=pve1&vmids=100', { 'sec-fetch-site': 'same-origin' })).records).toHaveLength(1);
  });

  it('batch-head-reads-nothing: HEAD is not routed (it would read 500 configs to send none)', async () => {
    const res = await rawRequest(shim.url, 'HEAD', '/dp/pending?node=pve1&vmids=100');
    expect(res.status).toBe(404);
    expect(pve.seen).toEqual([]);
  });

  it('batch-concurrency-flood: parallel batches of one user never have more than 6 reads at PVE at once', async () => {
    pve.delayMs = 15;
    const all = await Promise.all([0, 1, 2, 3].map((k) => getBatch(shim.url, `/dp/pending?node=pve1&vmids=${vmidsFrom(1000 + 100 * k, 60).join(',')}`)));
    expect(all.map((b) => b.records.length)).toEqual([60, 60, 60, 60]);
    expect(pve.maxInFlight).toBeLessThanOrEqual(6);
    expect(pve.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('batch-token-never-in-stream: the token is in no record, head or header, including the shim\'s own errors', async () => {
    pve.behaviour.set(101, { kind: 'close' });
    pve.behaviour.set(102, { kind: 'status', status: 401, reason: 'invalid token value!' });
    const res = await getBatch(shim.url, '/dp/pending?node=pve1&vmids=100,101,102');
    expect(res.records).toHaveLength(3);
    for (const text of [res.raw, JSON.stringify(res.headers)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(TOKEN);
    }
  });

  it('batch-hang-up-cancels-upstream-reads: a client gone mid-stream ends the reads in flight, frees the slots, starts no other', async () => {
    pve.fallback = { kind: 'hold' };
    pve.behaviour.set(100, { kind: 'ok' });
    const u = new URL(shim.url);
    const req = http.request({ host: u.hostname, port: u.port, path: `/dp/pending?node=pve1&vmids=${vmidsFrom(100, 200).join(',')}` });
    req.on('error', () => {});
    const firstRecord = new Promise<void>((resolve) => req.on('response', (res) => res.once('data', () => resolve())));
    req.end();
    await firstRecord;
    await until(() => pve.inFlight === 6);
    const asked = pendingCalls(pve).length;
    req.destroy();
    await until(() => pve.inFlight === 0);
    expect(pve.closedByShim).toBeGreaterThanOrEqual(6);
    await new Promise((r) => setTimeout(r, 200));
    expect(pendingCalls(pve).length).toBe(asked);
    // Every slot of the user is free again: six plain reads through the proxy go at once.
    pve.fallback = { kind: 'ok' };
    const reads = await Promise.all(vmidsFrom(300, 6).map((v) => rawRequest(shim.url, 'GET', `/api2/json/nodes/pve1/qemu/${v}/pending`)));
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('batch-slow-reader-bounded-memory: a client that stops reading stops the reads upstream; it gets every VM once it reads again', async () => {
    // 256 KB per answer: 200 VMs are 51 MB, far more than the socket buffers hold.
    pve.fallback = { kind: 'ok', bodyBytes: 256 * 1024 };
    pve.delayMs = 0;
    const u = new URL(shim.url);
    const vmids = vmidsFrom(100, 200);
    const parser = new PendingBatchParser();
    const got: number[] = [];
    let res!: http.IncomingMessage;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: u.hostname, port: u.port, path: `/dp/pending?node=pve1&vmids=${vmids.join(',')}` }, (r) => {
        res = r;
        res.pause();
        resolve();
      });
      req.end();
    });
    // Not reading: the reads stop once the buffers between here and the shim are full.
    let before = -1;
    await until(() => {
      const n = pendingCalls(pve).length;
      const steady = n === before;
      before = n;
      return steady && n > 0;
    });
    await new Promise((r) => setTimeout(r, 500));
    const whilePaused = pendingCalls(pve).length;
    expect(whilePaused).toBeLessThan(60);
    await new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => got.push(...parser.push(c).map((r) => r.vmid)));
      res.on('end', () => resolve());
      res.on('error', reject);
      res.resume();
    });
    parser.finish();
    expect(got.sort((a, b) => a - b)).toEqual(vmids);
  });

  it('is a read: allowed under --read-only', async () => {
    const ro = await startShim({ upstream: pve.url, readOnly: true });
    try {
      const res = await getBatch(ro.url, '/dp/pending?node=pve1&vmids=100,101');
      expect(res.status).toBe(200);
      expect(res.records.map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await ro.close();
    }
  });
});

describe('GET /dp/pending in login mode', () => {
  let pve: FakePve;
  let shim: Awaited<ReturnType<typeof startShim>>;
  beforeAll(async () => {
    pve = await fakePve();
    shim = await startShim({ upstream: pve.url, login: true, token: undefined });
  });
  afterAll(async () => {
    await shim.close();
    await pve.close();
  });

  it('batch-without-session: no session, or a forged session cookie, reads nothing', async () => {
    for (const headers of [{}, { cookie: 'dp_session=forged' }] as Record<string, string>[]) {
      const res = await rawRequest(shim.url, 'GET', '/dp/pending?node=pve1&vmids=100,101', headers);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_LOGIN_REQUIRED' });
    }
    expect(pve.seen).toEqual([]);
  });
});
